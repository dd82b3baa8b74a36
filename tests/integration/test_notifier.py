"""`run_notifier` against the real broker and a real local webhook."""

from __future__ import annotations

import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from dua.commands.notifier import run_notifier
from dua.kafka import free_ports
from dua.settings import Settings
from dua_schemas import WireCodec
from dua_stream.notifier.testing import RecordingWebhook, Scripted

pytestmark = pytest.mark.integration

PARTITIONS = 2
TIMEOUT_S = 30.0


def _violation(n: int, **overrides: Any) -> dict[str, Any]:
    detected = datetime(2026, 11, 1, 1, 0, tzinfo=UTC) + timedelta(seconds=n)
    record: dict[str, Any] = {
        "violation_id": uuid.uuid4().hex,
        "event_id": str(uuid.uuid4()),
        "occurred_at": detected,
        "detected_at": detected,
        "policy_version": "test",
        "rule": "personal_data_to_ad_platform",
        "severity": "critical",
        "mode": "active",
        "service": "hotpepper-gourmet",
        "actor_kind": "SERVICE",
        "actor_id": "ads-exporter",
        "subject_id": None,
        "purpose": "marketing.targeted_advertising",
        "purpose_category": "marketing",
        "destination_kind": "AD_PLATFORM",
        "elements": ["user.contact.email"],
        "message": "personal element sent to an ad platform",
        "trace_id": None,
    }
    record.update(overrides)
    return record


def _produce(settings: Settings, payloads: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
    for n, payload in enumerate(payloads):
        producer.produce(settings.topic_violations, payload, key=str(n).encode())
    assert producer.flush(TIMEOUT_S) == 0


def _committed_total(settings: Settings) -> int:
    consumer = Consumer(
        {"bootstrap.servers": settings.kafka_bootstrap, "group.id": settings.notifier_group}
    )
    try:
        partitions = [TopicPartition(settings.topic_violations, p) for p in range(PARTITIONS)]
        committed = consumer.committed(partitions, timeout=TIMEOUT_S)
        return sum(max(tp.offset, 0) for tp in committed)
    finally:
        consumer.close()


def _wait_for_metric(settings: Settings, line: str) -> str:
    url = f"http://127.0.0.1:{settings.notifier_metrics_port}/metrics"
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        with urllib.request.urlopen(url, timeout=5) as response:
            exposition: str = response.read().decode()
        if line in exposition.splitlines() or time.monotonic() > deadline:
            assert line in exposition.splitlines(), exposition
            return exposition
        time.sleep(0.1)


@contextmanager
def _running(settings: Settings) -> Iterator[None]:
    stop = threading.Event()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            run_notifier(settings, stop)
        except BaseException as exc:  # reported in the test thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="notifier", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(TIMEOUT_S)
    assert not thread.is_alive(), "the notifier did not stop"
    assert not failure, f"the notifier failed: {failure[0]!r}"


@pytest.fixture
def notifier_settings(
    settings_factory: Callable[..., Settings],
) -> Callable[[RecordingWebhook], Settings]:
    """Settings with fresh topics, a unique consumer group, a 1 s window and a free metrics port."""
    group = f"test-notifier-{uuid.uuid4().hex[:8]}"
    (metrics_port,) = free_ports(1)

    def make(hook: RecordingWebhook) -> Settings:
        return settings_factory(
            partitions=PARTITIONS,
            notifier_webhook_url=hook.url,
            notifier_group=group,
            notifier_group_window_s=1.0,
            notifier_min_severity="high",
            notifier_max_attempts=2,
            notifier_metrics_port=metrics_port,
        )

    return make


def test_burst_is_posted_once_and_every_offset_committed(
    notifier_settings: Callable[[RecordingWebhook], Settings],
) -> None:
    """20 critical violations become one message; shadow, medium and garbage are skipped."""
    codec = WireCodec()
    with RecordingWebhook() as hook:
        settings = notifier_settings(hook)
        payloads = [codec.encode("Violation", _violation(n)) for n in range(20)]
        payloads += [codec.encode("Violation", _violation(n, mode="shadow")) for n in range(5)]
        payloads += [
            codec.encode(
                "Violation", _violation(n, rule="cross_use_out_of_scope", severity="medium")
            )
            for n in range(5)
        ]
        payloads.append(b"not a violation")
        _produce(settings, payloads)
        with _running(settings):
            (message,) = hook.wait_for(1, timeout=TIMEOUT_S)
            # The webhook records the post before the notifier has read the answer.
            exposition = _wait_for_metric(settings, "dua_notifier_posted_total 1.0")
        assert "personal_data_to_ad_platform in hotpepper-gourmet: 20 violations" in message["text"]
        assert len(hook.accepted) == 1
        assert 'dua_notifier_violations_total{outcome="shadow"} 5.0' in exposition
        assert _committed_total(settings) == len(payloads)


def test_violations_not_posted_are_read_again(
    notifier_settings: Callable[[RecordingWebhook], Settings],
) -> None:
    """While the webhook is down nothing is committed; the next run posts the violations."""
    codec = WireCodec()
    with RecordingWebhook() as hook:
        settings = notifier_settings(hook)
        # Down for the whole first run: every attempt, including the flush at shutdown, fails.
        hook.respond_with(*[Scripted(503)] * 50)
        _produce(settings, [codec.encode("Violation", _violation(n)) for n in range(3)])
        with _running(settings):
            hook.wait_for_status(503, 2, timeout=TIMEOUT_S)
        assert hook.accepted == []
        assert _committed_total(settings) == 0

        hook.clear_script()  # the webhook is back: every answer is 200
        with _running(settings):
            (message,) = hook.wait_for(1, timeout=TIMEOUT_S)
        assert ": 3 violations" in message["text"]
        assert _committed_total(settings) == 3
