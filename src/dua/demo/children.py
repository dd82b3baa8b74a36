"""The demo's child processes (`dua run processor`, `dua run sink`, `dua kafka …`): started with
logs in files, stopped with SIGTERM, killed if they do not stop, never left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

STOP_GRACE_S = 20.0


class Child:
    """One `dua` subcommand running in its own process group."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log: IO[bytes] = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "dua", *args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal reaches the demo, which stops us
        )

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> int | None:
        """SIGTERM (the processes flush and commit), then SIGKILL after a grace period."""
        if self.alive():
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._log.close()
        return self._process.returncode

    def log_tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def run_dua(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a short `dua` command to completion, capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "dua", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
