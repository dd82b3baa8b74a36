"""The notifier core end to end without Kafka: a real local webhook and a manual clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dua_stream.notifier import (
    Dispatcher,
    NotifierConfig,
    NotifierMetrics,
    Position,
    RetryPolicy,
    WebhookPoster,
)
from dua_stream.notifier.testing import ManualClock, RecordingWebhook

Make = Callable[..., dict[str, Any]]
TOPIC = "dua.violations"


@pytest.fixture
def hook() -> Iterator[RecordingWebhook]:
    """A recording webhook on 127.0.0.1 for the duration of one test."""
    with RecordingWebhook() as webhook:
        yield webhook


def _dispatcher(
    hook: RecordingWebhook, clock: ManualClock, **config: Any
) -> tuple[Dispatcher, NotifierMetrics]:
    metrics = NotifierMetrics()
    poster = WebhookPoster(
        hook.url,
        retry=RetryPolicy(max_attempts=3),
        sleep=clock.advance,  # backoff passes on the manual clock, not the wall clock
        on_retry=metrics.retries.inc,
    )
    values: dict[str, Any] = {"min_severity": "high", "group_window_s": 30.0}
    values.update(config)
    return Dispatcher(poster, NotifierConfig(**values), clock=clock, metrics=metrics), metrics


def _value(metrics: NotifierMetrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def test_burst_becomes_one_message(
    hook: RecordingWebhook, clock: ManualClock, violation: Make
) -> None:
    """A hundred critical violations of one rule and service in 10 s are one message (with
    the first one's immediate post turned off: `test_first_critical_violation_...`)."""
    dispatcher, metrics = _dispatcher(hook, clock, immediate_severity=None)
    for offset in range(100):
        dispatcher.accept(Position(TOPIC, offset % 2, offset), violation())
        clock.advance(0.1)
        dispatcher.flush()
    assert hook.payloads == []
    clock.advance(20.0)
    assert dispatcher.flush() == 1
    (payload,) = hook.payloads
    assert "payroll_data_misuse in rikunabi: 100 violations" in payload["text"]
    assert _value(metrics, "dua_notifier_posted_total") == 1
    assert _value(metrics, "dua_notifier_violations_total", outcome="grouped") == 100
    assert _value(metrics, "dua_notifier_pending_violations") == 0


def test_offsets_wait_for_the_post(
    hook: RecordingWebhook, clock: ManualClock, violation: Make
) -> None:
    """Nothing is committable while the group is open; everything is once it is posted."""
    dispatcher, _ = _dispatcher(hook, clock)
    for offset in range(3):
        dispatcher.accept(Position(TOPIC, 0, offset), violation())
    assert dispatcher.committable() == {(TOPIC, 0): 0}
    clock.advance(30)
    dispatcher.flush()
    assert dispatcher.committable() == {(TOPIC, 0): 3}


def test_retry_after_500_posts_once(
    hook: RecordingWebhook, clock: ManualClock, violation: Make
) -> None:
    """A 500 is retried with backoff and the group is delivered on the second attempt."""
    hook.respond_with(500)
    dispatcher, metrics = _dispatcher(hook, clock)
    dispatcher.accept(Position(TOPIC, 0, 0), violation())
    clock.advance(30)
    assert dispatcher.flush() == 1
    assert hook.statuses == [500, 200]
    assert _value(metrics, "dua_notifier_retries_total") == 1
    assert dispatcher.committable() == {(TOPIC, 0): 1}


def test_unavailable_webhook_keeps_the_offsets(
    hook: RecordingWebhook, clock: ManualClock, violation: Make
) -> None:
    """After every attempt fails the group is postponed, uncommitted, and delivered later."""
    hook.respond_with(503, 503, 503)
    dispatcher, metrics = _dispatcher(hook, clock, unavailable_cooldown_s=30.0)
    dispatcher.accept(Position(TOPIC, 0, 0), violation())
    clock.advance(30)
    assert dispatcher.flush() == 0
    assert dispatcher.committable() == {(TOPIC, 0): 0}
    assert _value(metrics, "dua_notifier_failures_total", reason="unavailable") == 1
    assert dispatcher.flush() == 0  # still cooling down: no new attempt
    assert len(hook.statuses) == 3
    clock.advance(30)
    assert dispatcher.flush() == 1
    assert dispatcher.committable() == {(TOPIC, 0): 1}


def test_rejected_message_is_dropped_and_settled(
    hook: RecordingWebhook, clock: ManualClock, violation: Make
) -> None:
    """A 4xx cannot be fixed by resending: the group is counted as failed and its offsets move."""
    hook.respond_with(404)
    dispatcher, metrics = _dispatcher(hook, clock)
    dispatcher.accept(Position(TOPIC, 0, 0), violation())
    clock.advance(30)
    assert dispatcher.flush() == 0
    assert hook.statuses == [404]
    assert _value(metrics, "dua_notifier_failures_total", reason="rejected") == 1
    assert dispatcher.committable() == {(TOPIC, 0): 1}
    assert dispatcher.open_groups == 0


def test_threshold_and_shadow_are_skipped_and_committed(
    hook: RecordingWebhook, clock: ManualClock, violation: Make
) -> None:
    """Medium and shadow violations are never posted, and their offsets move at once."""
    dispatcher, metrics = _dispatcher(hook, clock, min_severity="high")
    assert (
        dispatcher.accept(Position(TOPIC, 0, 0), violation(severity="medium")) == "below_threshold"
    )
    assert dispatcher.accept(Position(TOPIC, 0, 1), violation(mode="shadow")) == "shadow"
    assert dispatcher.committable() == {(TOPIC, 0): 2}
    clock.advance(60)
    assert dispatcher.flush(force=True) == 0
    assert hook.payloads == []
    assert _value(metrics, "dua_notifier_violations_total", outcome="shadow") == 1
    assert _value(metrics, "dua_notifier_violations_total", outcome="below_threshold") == 1


def test_rate_limit_holds_back_extra_messages(
    hook: RecordingWebhook, clock: ManualClock, violation: Make
) -> None:
    """Three groups due with a budget of two per minute: two now, the third a minute later."""
    dispatcher, metrics = _dispatcher(hook, clock, max_messages_per_minute=2)
    for offset, service in enumerate(["rikunabi", "jalan", "carsensor"]):
        dispatcher.accept(Position(TOPIC, 0, offset), violation(service=service))
    clock.advance(30)
    assert dispatcher.flush() == 2
    assert dispatcher.open_groups == 1
    assert _value(metrics, "dua_notifier_rate_limited_total") == 1
    dispatcher.accept(Position(TOPIC, 0, 3), violation(service="carsensor"))
    clock.advance(59)
    assert dispatcher.flush() == 0
    assert _value(metrics, "dua_notifier_rate_limited_total") == 1  # one message held back
    clock.advance(1)
    assert dispatcher.flush() == 1
    assert "carsensor: 2 violations" in hook.payloads[-1]["text"]
    assert dispatcher.committable() == {(TOPIC, 0): 4}


def test_undecodable_record_is_skipped(hook: RecordingWebhook, clock: ManualClock) -> None:
    """A record that is not a Violation is counted and committed, not retried forever."""
    dispatcher, metrics = _dispatcher(hook, clock)
    dispatcher.skip(Position(TOPIC, 3, 41))
    assert dispatcher.committable() == {(TOPIC, 3): 42}
    assert _value(metrics, "dua_notifier_violations_total", outcome="undecodable") == 1


def test_first_critical_violation_is_posted_at_once_and_the_burst_after_it_grouped(
    hook: RecordingWebhook, clock: ManualClock, violation: Make
) -> None:
    """By default the first critical violation of a rule and service goes out at once; the 99
    after it in the window become one message at the window's end, not 99 more."""
    dispatcher, metrics = _dispatcher(hook, clock)
    dispatcher.accept(Position(TOPIC, 0, 0), violation())
    assert dispatcher.flush() == 1
    assert "payroll_data_misuse in rikunabi: 1 violation" in hook.payloads[0]["text"]
    for offset in range(1, 100):
        clock.advance(0.1)
        dispatcher.accept(Position(TOPIC, 0, offset), violation())
        assert dispatcher.flush() == 0
    clock.advance(30.0)
    assert dispatcher.flush() == 1
    assert ": 99 violations" in hook.payloads[1]["text"]
    assert _value(metrics, "dua_notifier_posted_total") == 2
    assert dispatcher.committable() == {(TOPIC, 0): 100}


def test_below_the_immediate_severity_every_group_waits_for_its_window(
    hook: RecordingWebhook, clock: ManualClock, violation: Make
) -> None:
    """A high violation (posted, but not critical) waits for the window as before."""
    dispatcher, _ = _dispatcher(hook, clock)
    dispatcher.accept(Position(TOPIC, 0, 0), violation(severity="high"))
    assert dispatcher.flush() == 0
    clock.advance(30.0)
    assert dispatcher.flush() == 1


def test_a_key_leads_again_once_its_window_has_passed(
    hook: RecordingWebhook, clock: ManualClock, violation: Make
) -> None:
    """After a quiet window the next critical violation of the key is again posted at once."""
    dispatcher, _ = _dispatcher(hook, clock)
    dispatcher.accept(Position(TOPIC, 0, 0), violation())
    assert dispatcher.flush() == 1
    clock.advance(31.0)
    dispatcher.accept(Position(TOPIC, 0, 1), violation())
    assert dispatcher.flush() == 1
