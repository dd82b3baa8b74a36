"""A Node process using the TypeScript SDK, driven one JSON line at a time (`test/integration/driver.ts`)."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import IO, Any

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "producers" / "typescript"
DRIVER = PACKAGE / "build" / "test" / "integration" / "driver.js"
ANSWER_TIMEOUT_S = 120.0


def build_package() -> None:
    """Compile the package and its test scripts (`make typescript-setup` installs its dependencies)."""
    if shutil.which("node") is None:
        pytest.fail("node is not installed: the TypeScript SDK's tests need Node 20.19 or later")
    if not (PACKAGE / "node_modules").is_dir():
        pytest.fail("producers/typescript/node_modules is missing: run `make typescript-setup`")
    tsc = PACKAGE / "node_modules" / "typescript" / "bin" / "tsc"
    subprocess.run(["node", str(tsc), "-p", "tsconfig.test.json"], cwd=PACKAGE, check=True)


class NodeService:
    """`node driver.js`; `ask` sends one command and returns its JSON answer; stderr goes to `log_path`."""

    def __init__(self, log_path: Path, **options: Any) -> None:
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("ab")
        self._process = subprocess.Popen(
            ["node", str(DRIVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={**os.environ, "NODE_NO_WARNINGS": "1"},
        )
        self._buffer = b""
        self.ask({"op": "open", "options": options})

    @property
    def pid(self) -> int:
        return self._process.pid

    def ask(self, command: dict[str, Any], timeout: float = ANSWER_TIMEOUT_S) -> Any:
        """Send `command`; its answer; fail the test on an error answer."""
        stdin = self._process.stdin
        assert stdin is not None
        stdin.write(json.dumps(command).encode() + b"\n")
        stdin.flush()
        answer = json.loads(self._line(timeout))
        if isinstance(answer, dict) and "error" in answer:
            pytest.fail(f"the Node service answered {answer['error']} to {command['op']}")
        return answer

    def _line(self, timeout: float) -> bytes:
        stdout = self._process.stdout
        assert stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or self._process.poll() is not None:
                pytest.fail(f"the Node service did not answer; its log: {self.log_path.read_text()[-2000:]}")
            ready, _, _ = select.select([stdout], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(stdout.fileno(), 65536)
                if not chunk:
                    continue
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def stats(self) -> dict[str, int]:
        return dict(self.ask({"op": "stats"}))

    def close(self) -> None:
        """Close the client (delivers or spools what is left) and wait for the process to end."""
        if self._process.poll() is None:
            self.ask({"op": "close"})
            self._process.wait(30)
        self._log.close()

    def kill(self, sig: int) -> int:
        """Send `sig` and return the exit status."""
        self._process.send_signal(sig)
        code = self._process.wait(30)
        self._log.close()
        return code
