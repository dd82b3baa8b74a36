"""POST JSON to a webhook, retrying with exponential backoff on 5xx, 429 and timeouts.

The URL of a Slack-style webhook is a credential (its path is the token), so it is never put
in a log line or an error message: problems name the status and the host only.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from dua_schemas import ConfigError
from dua_stream.notifier.errors import WebhookRejected, WebhookUnavailable

log = logging.getLogger(__name__)

_TOO_MANY_REQUESTS: Final = 429
_CLIENT_ERRORS: Final = range(400, 500)
_DETAIL_MAX: Final = 200


class Poster(Protocol):
    """What the dispatcher needs of a webhook: post one payload or raise why not."""

    def post(self, payload: dict[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts per message and the waits between them (doubling, capped)."""

    max_attempts: int = 5
    first_backoff_s: float = 0.5
    max_backoff_s: float = 30.0

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        wait: float = min(self.first_backoff_s * 2.0 ** (attempt - 1), self.max_backoff_s)
        if retry_after is not None:
            wait = min(max(wait, retry_after), self.max_backoff_s)
        return wait


def _retry_after(error: urllib.error.HTTPError) -> float | None:
    value = error.headers.get("Retry-After") if error.headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:  # an HTTP date: fall back to our own backoff
        return None


class WebhookPoster:
    """Posts payloads to one webhook URL with a timeout and a `RetryPolicy`."""

    __slots__ = ("_sleep", "_url", "host", "on_retry", "retry", "timeout_s")

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[], None] | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigError("the notifier webhook URL must be an http(s) URL with a host")
        self._url = url
        self.host = parts.hostname
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.on_retry = on_retry

    def __repr__(self) -> str:
        return f"WebhookPoster(host={self.host!r})"

    def post(self, payload: dict[str, Any]) -> None:
        """Deliver `payload`; raise `WebhookRejected` (4xx) or `WebhookUnavailable` (gave up)."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        problem = "no attempt made"
        for attempt in range(1, self.retry.max_attempts + 1):
            retry_after: float | None = None
            try:
                self._send(body)
            except urllib.error.HTTPError as exc:
                detail = exc.read(_DETAIL_MAX).decode(errors="replace").strip()
                if exc.code in _CLIENT_ERRORS and exc.code != _TOO_MANY_REQUESTS:
                    raise WebhookRejected(exc.code, detail or exc.reason) from None
                problem = f"HTTP {exc.code} from {self.host}"
                retry_after = _retry_after(exc)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                problem = f"{type(reason).__name__} talking to {self.host}: {reason}"
            else:
                return
            if attempt < self.retry.max_attempts:
                wait = self.retry.backoff(attempt, retry_after)
                log.warning(
                    "webhook attempt %d failed (%s); retrying in %.1f s", attempt, problem, wait
                )
                if self.on_retry is not None:
                    self.on_retry()
                self._sleep(wait)
        raise WebhookUnavailable(self.retry.max_attempts, problem)

    def _send(self, body: bytes) -> None:
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self._url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
            response.read()
