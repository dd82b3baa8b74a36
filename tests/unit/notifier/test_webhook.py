"""The webhook client against a real local HTTP server: retries, refusals, timeouts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dua_schemas import ConfigError
from dua_stream.notifier import RetryPolicy, WebhookPoster, WebhookRejected, WebhookUnavailable
from dua_stream.notifier.testing import RecordingWebhook, Scripted

PAYLOAD = {"text": "hello", "blocks": []}


@pytest.fixture
def hook() -> Iterator[RecordingWebhook]:
    """A recording webhook on 127.0.0.1 for the duration of one test."""
    with RecordingWebhook() as webhook:
        yield webhook


def _poster(hook: RecordingWebhook, waits: list[float], **kwargs: object) -> WebhookPoster:
    retry = RetryPolicy(max_attempts=4, first_backoff_s=0.5, max_backoff_s=4.0)
    return WebhookPoster(hook.url, retry=retry, sleep=waits.append, **kwargs)  # type: ignore[arg-type]


def test_post_delivers_json(hook: RecordingWebhook) -> None:
    """A 200 answer on the first attempt delivers the payload once, no waiting."""
    waits: list[float] = []
    _poster(hook, waits).post(PAYLOAD)
    assert hook.payloads == [PAYLOAD]
    assert waits == []


def test_retries_after_500_with_growing_backoff(hook: RecordingWebhook) -> None:
    """Two 500s then 200: three attempts, waiting 0.5 s then 1 s."""
    hook.respond_with(500, 502)
    waits: list[float] = []
    retried: list[int] = []
    _poster(hook, waits, on_retry=lambda: retried.append(1)).post(PAYLOAD)
    assert hook.statuses == [500, 502, 200]
    assert waits == [0.5, 1.0]
    assert len(retried) == 2


def test_gives_up_after_max_attempts(hook: RecordingWebhook) -> None:
    """A webhook answering 503 every time is unavailable after the last attempt."""
    hook.respond_with(503, 503, 503, 503)
    waits: list[float] = []
    with pytest.raises(WebhookUnavailable, match="after 4 attempts: HTTP 503") as caught:
        _poster(hook, waits).post(PAYLOAD)
    assert hook.statuses == [503] * 4
    assert waits == [0.5, 1.0, 2.0]
    assert "/hook" not in str(caught.value)  # the URL path is the credential


def test_client_error_is_not_retried(hook: RecordingWebhook) -> None:
    """A 400 means the payload is wrong: one attempt, then `WebhookRejected`."""
    hook.respond_with(400)
    with pytest.raises(WebhookRejected) as caught:
        _poster(hook, []).post(PAYLOAD)
    assert caught.value.status == 400
    assert hook.statuses == [400]


def test_429_honours_retry_after(hook: RecordingWebhook) -> None:
    """Too many requests with Retry-After: 3 waits 3 s (capped by the policy) and retries."""
    hook.respond_with(Scripted(429, headers=(("Retry-After", "3"),)))
    waits: list[float] = []
    _poster(hook, waits).post(PAYLOAD)
    assert hook.statuses == [429, 200]
    assert waits == [3.0]


def test_timeout_is_retried(hook: RecordingWebhook) -> None:
    """An answer slower than the timeout counts as a failed attempt and is retried."""
    hook.respond_with(Scripted(200, delay_s=1.0))
    waits: list[float] = []
    _poster(hook, waits, timeout_s=0.2).post(PAYLOAD)
    assert waits == [0.5]
    # The slow first request is recorded once its delay ends, after the retry got through.
    assert len(hook.wait_for(2, timeout=5)) == 2


def test_refused_connection_is_unavailable() -> None:
    """Nothing listening is a transport problem, retried then reported."""
    with RecordingWebhook() as gone:
        url = gone.url
    waits: list[float] = []
    poster = WebhookPoster(url, retry=RetryPolicy(max_attempts=2), sleep=waits.append)
    with pytest.raises(WebhookUnavailable, match=r"talking to 127\.0\.0\.1"):
        poster.post(PAYLOAD)
    assert waits == [0.5]


def test_only_http_urls_are_accepted() -> None:
    """A file: URL (or garbage) is refused before anything is sent, without echoing it."""
    with pytest.raises(ConfigError, match="http") as caught:
        WebhookPoster("file:///etc/passwd")
    assert "passwd" not in str(caught.value)
    assert "passwd" not in repr(WebhookPoster("http://hooks.test/passwd"))
