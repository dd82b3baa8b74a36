"""A real webhook for tests: an HTTP server on 127.0.0.1 that records what is posted to it.

Shipped with the package (as `structlog.testing` is) so operators can check a notifier or an
Alertmanager configuration end to end without a chat service::

    with RecordingWebhook() as hook:
        ...  # point the notifier at hook.url
        hook.wait_for(1, timeout=10)
        assert "payroll_data_misuse" in hook.payloads[0]["text"]

`respond_with` scripts the next answers (a status code, or a delay in seconds to provoke a
client timeout; the delayed request still counts as received, as on a real server); once the
script is used up every request gets 200. `ManualClock` drives grouping and rate limiting
without waiting.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


class ManualClock:
    """Monotonic seconds that move only through `advance`."""

    __slots__ = ("now",)

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass."""
        self.now += seconds


@dataclass(frozen=True, slots=True)
class Scripted:
    """One scripted answer: an HTTP status, after an optional delay, with optional headers."""

    status: int = 200
    delay_s: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()


class RecordingWebhook:
    """Records every POST body (parsed as JSON) and every status it answered."""

    def __init__(self, path: str = "/hook") -> None:
        self.path = path
        self.payloads: list[Any] = []
        self.statuses: list[int] = []
        self._script: deque[Scripted] = deque()
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # A short poll interval makes shutdown (each test's teardown) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def respond_with(self, *answers: int | Scripted) -> None:
        """Queue the next answers: a status code, or a `Scripted` answer."""
        with self._changed:
            for answer in answers:
                self._script.append(answer if isinstance(answer, Scripted) else Scripted(answer))

    def clear_script(self) -> None:
        """Drop the answers not used yet: from now on every request gets 200."""
        with self._changed:
            self._script.clear()

    def wait_for(self, count: int, timeout: float) -> list[Any]:
        """Block until `count` payloads were accepted (200); fail saying what arrived."""
        self.wait_for_status(200, count, timeout)
        return self.accepted

    def wait_for_status(self, status: int, count: int, timeout: float) -> None:
        """Block until `count` requests were answered with `status`; fail saying what arrived."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.statuses.count(status) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} requests answered {status} within {timeout} s; "
                        f"statuses so far: {self.statuses}"
                    )
                self._changed.wait(left)

    @property
    def accepted(self) -> list[Any]:
        """Payloads answered with 200, in arrival order."""
        return [p for p, s in zip(self.payloads, self.statuses, strict=True) if s == 200]

    def _next_answer(self) -> Scripted:
        with self._changed:
            return self._script.popleft() if self._script else Scripted()

    def _record(self, payload: Any, status: int) -> None:
        with self._changed:
            self.payloads.append(payload)
            self.statuses.append(status)
            self._changed.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    payload: Any = json.loads(body)
                except ValueError:
                    payload = body.decode(errors="replace")
                answer = webhook._next_answer()
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                webhook._record(payload, answer.status)
                reply = b"ok" if answer.status == 200 else b"scripted failure"
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a provoked timeout)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
