"""A service using the Java, TypeScript or Go SDK, driven line by line from a test.

Each SDK ships one scripted service program, and all three speak one protocol: Java's
`dua.producer.ScriptedService` (test sources), Go's `cmd/dua-scripted`, the TypeScript SDK's
`test/integration/driver.ts`. Arguments `bootstrap topicRaw spoolDirectory subjectKey service`,
then the language's own settings; one command per stdin line (`emit N PREFIX`, `access JSON`,
`flush MILLIS`, `spooled`, `await-spooled N MILLIS`, `await-drained MILLIS`, `stats`,
`close`), one answer per stdout line, `ok ...` or `error ...`; logs go to stderr.

What differs per language is in a `Language`: how its program is built, its command line
and environment, and the settings that turn an outage into spooling within seconds.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from bench.sdk_languages import go_program, typescript_build

ANSWER_TIMEOUT_S: Final = 150.0
STATS: Final = ("emitted", "delivered", "spooled", "replayed", "dropped")


@dataclass(frozen=True)
class Language:
    """How one SDK's scripted service is built and started."""

    name: str
    # builds the program (a scratch directory given); what `command` needs (None: the Java
    # classpath, which the session's `java_classpath` fixture builds)
    build: Callable[[Path], str] | None
    command: Callable[[str], tuple[str, ...]]  # the built program -> the command before arguments
    # trailing arguments shortening the SDK's delivery timeouts (30 s) to seconds
    quick_failure: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)


LANGUAGES: Final = (
    Language(
        "java",
        None,
        lambda classpath: ("java", "-cp", classpath, "dua.producer.ScriptedService"),
        ("delivery.timeout.ms=5000", "request.timeout.ms=2000", "max.block.ms=2000"),
    ),
    Language(
        "typescript",
        lambda _: str(typescript_build() / "test" / "integration" / "driver.js"),
        lambda driver: ("node", driver),
        (json.dumps({"kafka": {"timeoutMs": 3000, "retries": 2, "deliveryTimeoutMs": 15000}}),),
        {"NODE_NO_WARNINGS": "1"},
    ),
    Language(
        "go",
        lambda scratch: str(go_program("dua-scripted", scratch)),
        lambda binary: (binary,),
        ("3000",),
    ),
)
BY_NAME: Final = {language.name: language for language in LANGUAGES}


@dataclass(frozen=True)
class ScriptedProgram:
    """One SDK's scripted service, built: what starts it."""

    language: Language
    command: tuple[str, ...]

    def argv(
        self, bootstrap: str, topic: str, spool: Path, subject_key: str, service: str, quick: bool
    ) -> list[str]:
        """The command line of a client of `service` on `bootstrap` writing to `topic`."""
        settings = self.language.quick_failure if quick else ()
        return [*self.command, bootstrap, topic, str(spool), subject_key, service, *settings]

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **self.language.env}

    def run_script(
        self,
        bootstrap: str,
        topic: str,
        spool: Path,
        subject_key: str,
        service: str,
        accesses: list[dict[str, Any]],
    ) -> None:
        """Emit `accesses` (Python `emit` arguments), flush, close; fail on any error answer."""
        commands = [f"access {json.dumps(access)}" for access in accesses] + [
            "flush 30000",
            "close",
        ]
        result = subprocess.run(
            self.argv(bootstrap, topic, spool, subject_key, service, quick=False),
            input="\n".join(commands) + "\n",
            capture_output=True,
            text=True,
            timeout=120,
            env=self.env,
            check=False,
        )
        answers = result.stdout.splitlines()
        assert answers[-2:] == ["ok 0", "ok closed"], result.stdout + result.stderr[-3000:]
        assert all(answer.startswith("ok ") for answer in answers), result.stdout


class ScriptedService:
    """A running scripted service; `ask` sends one command and returns its answer; the
    program's log goes to `log_path`."""

    def __init__(
        self,
        program: ScriptedProgram,
        bootstrap: str,
        topic: str,
        spool: Path,
        subject_key: str,
        log_path: Path,
        *,
        quick_failure: bool = False,
        service: str = "jalan",
    ) -> None:
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("ab")
        self._process = subprocess.Popen(
            program.argv(bootstrap, topic, spool, subject_key, service, quick_failure),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=program.env,
        )
        self._buffer = b""
        self._answer(ANSWER_TIMEOUT_S)  # "ready": the client is built

    @property
    def pid(self) -> int:
        return self._process.pid

    def ask(self, command: str, timeout: float = ANSWER_TIMEOUT_S) -> str:
        """Send `command`; its answer without the leading `ok `; fail on an error answer."""
        stdin = self._process.stdin
        assert stdin is not None
        stdin.write(command.encode() + b"\n")
        stdin.flush()
        return self._answer(timeout)

    def emit(self, count: int, prefix: str = "member") -> list[str]:
        """`count` accesses of subjects `prefix`-0, -1, ...; their event ids."""
        return self.ask(f"emit {count} {prefix}").split(",")

    def _answer(self, timeout: float) -> str:
        stdout = self._process.stdout
        assert stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no answer within {timeout:.0f} s; log:\n{self.log_tail()}")
            ready, _, _ = select.select([stdout], [], [], left)
            if ready:
                chunk = os.read(stdout.fileno(), 1 << 16)
                if not chunk:
                    raise AssertionError(f"the service exited; log:\n{self.log_tail()}")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        text = line.decode()
        if not text.startswith("ok "):
            raise AssertionError(f"{text}; log:\n{self.log_tail()}")
        return text[3:]

    def stats(self) -> dict[str, int]:
        """The client's counters: emitted, delivered, spooled, replayed, dropped."""
        return dict(zip(STATS, map(int, self.ask("stats").split()), strict=True))

    def close(self) -> None:
        """Close the client (it delivers or spools what it holds) and wait for the program to
        exit; one that no longer answers is killed."""
        try:
            if self._process.poll() is None:
                self.ask("close")
                self._process.wait(60)
        finally:
            self.kill()

    def kill(self) -> int:
        """SIGKILL (if it still runs): no close, no flush; the exit status."""
        if self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGKILL)
        code = self._process.wait(30)
        self._log.close()
        return code

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    @property
    def returncode(self) -> int | None:
        return self._process.poll()
