"""Why a webhook post failed: worth retrying later, or never going to work."""

from __future__ import annotations

from dua_schemas import DuaError, TransportError


class WebhookUnavailable(TransportError):
    """5xx, 429, a timeout or a refused connection on every attempt; try again later."""

    def __init__(self, attempts: int, last_problem: str) -> None:
        self.attempts = attempts
        self.last_problem = last_problem
        super().__init__(f"webhook unavailable after {attempts} attempts: {last_problem}")


class WebhookRejected(DuaError):
    """The webhook answered 4xx (not 429): the payload or the URL is wrong; retrying won't help."""

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"webhook rejected the message with HTTP {status}: {detail}")
