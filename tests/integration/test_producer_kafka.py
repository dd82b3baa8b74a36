"""The SDK against the real broker: what is emitted is what a consumer reads back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer

from dua_producer import AuditClient, pseudonymize
from dua_schemas import InvalidEvent, WireCodec

pytestmark = pytest.mark.integration

SUBJECT_KEY = "integration-subject-key-0123456789"
PURPOSES = ["service.inquiry_response", "research.profiling", None]


def consume(bootstrap: str, topic: str, count: int, timeout: float = 60.0) -> list[Any]:
    """Read `count` messages from the start of `topic` (fails the test after `timeout` s)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(messages) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            assert message.error() is None, message.error()
            messages.append(message)
        # A short extra wait shows there is nothing beyond the expected count.
        extra = consumer.poll(1.0)
        if extra is not None and extra.error() is None:
            messages.append(extra)
    finally:
        consumer.close()
    return messages


@pytest.fixture
def kafka_client(
    kafka_bootstrap: str, topic_factory: Callable[..., list[str]], tmp_path: Path
) -> Iterator[AuditClient]:
    """A client on the session broker, writing to fresh raw and consent topics."""
    raw, consent = topic_factory("sdk-raw", "sdk-consent")
    client = AuditClient(
        subject_key=SUBJECT_KEY,
        service="hotpepper-beauty",
        bootstrap_servers=kafka_bootstrap,
        topic_raw=raw,
        topic_consent=consent,
        spool_dir=tmp_path / "spool",
        metrics=False,
    )
    yield client
    client.close()


def test_emitted_events_are_consumed_and_decode_equal(
    kafka_bootstrap: str, kafka_client: AuditClient
) -> None:
    """N events emitted are N messages, each decoding to exactly what was emitted."""
    expected: dict[str, dict[str, Any]] = {}
    for i in range(300):
        subject = f"member-{i % 17}"
        fields: dict[str, Any] = {
            "elements": ["user.name", "user.behavior.usage_history"][: 1 + i % 2],
            "purpose": PURPOSES[i % 3],
            "record_count": 1 + i % 4,
            "trace_id": f"trace-{i}" if i % 5 == 0 else None,
            "destination": "GROUP_SERVICE" if i % 7 == 0 else "INTERNAL",
            "attributes": {"endpoint": "/salon/booking"} if i % 2 else None,
        }
        event_id = kafka_client.emit(subject=subject, **fields)
        expected[event_id] = fields | {"subject": subject}
    assert kafka_client.flush(timeout=30) == 0

    codec = WireCodec()
    messages = consume(kafka_bootstrap, kafka_client.config.topic_raw, len(expected))
    assert len(messages) == len(expected)
    seen: dict[str, dict[str, Any]] = {}
    for message in messages:
        record = codec.decode(message.value(), expected="DataAccessEvent").record
        seen[record["event_id"]] = record
        sent = expected[record["event_id"]]
        pseudonym = pseudonymize(sent["subject"], SUBJECT_KEY)
        assert message.key() == pseudonym.encode()
        assert record["subject_id"] == pseudonym
        assert record["service"] == "hotpepper-beauty"
        assert record["actor"] == {"kind": "SERVICE", "id": "hotpepper-beauty"}
        assert record["elements"] == sent["elements"]
        assert record["purpose"] == sent["purpose"]
        assert record["record_count"] == sent["record_count"]
        assert record["trace_id"] == sent["trace_id"]
        assert record["destination"]["kind"] == sent["destination"]
        assert record["attributes"] == (sent["attributes"] or {})
    assert set(seen) == set(expected)
    stats = kafka_client.stats()
    assert (stats.delivered, stats.spooled, stats.dropped) == (300, 0, 0)


def test_one_subjects_events_keep_their_order(
    kafka_bootstrap: str, kafka_client: AuditClient
) -> None:
    """Keyed by pseudonym, one subject's events land on one partition in emit order."""
    emitted = [kafka_client.emit(["user.name"], subject="member-1") for _ in range(50)]
    assert kafka_client.flush(timeout=30) == 0
    messages = consume(kafka_bootstrap, kafka_client.config.topic_raw, 50)
    codec = WireCodec()
    assert len({m.partition() for m in messages}) == 1
    assert [codec.decode(m.value()).record["event_id"] for m in messages] == emitted


def test_consent_changes_go_to_the_consent_topic(
    kafka_bootstrap: str, kafka_client: AuditClient
) -> None:
    """emit_consent writes a ConsentChange keyed by the pseudonym to the consent topic."""
    kafka_client.emit_consent("member-3", targeting_opt_out=True)
    assert kafka_client.flush(timeout=30) == 0
    (message,) = consume(kafka_bootstrap, kafka_client.config.topic_consent, 1)
    record = WireCodec().decode(message.value(), expected="ConsentChange").record
    pseudonym = pseudonymize("member-3", SUBJECT_KEY)
    assert message.key() == pseudonym.encode()
    assert record["subject_id"] == pseudonym
    assert record["targeting_opt_out"] is True


def test_invalid_events_raise_before_sending(
    kafka_bootstrap: str, kafka_client: AuditClient
) -> None:
    """Invalid events raise InvalidEvent and never reach the topic; a valid one does."""
    for bad in ({"elements": []}, {"elements": ["user.name"], "operation": "STEAL"}):
        with pytest.raises(InvalidEvent):
            kafka_client.emit(subject="member-1", **bad)
    valid = kafka_client.emit(["user.name"], subject="member-1")
    assert kafka_client.flush(timeout=30) == 0
    messages = consume(kafka_bootstrap, kafka_client.config.topic_raw, 1)
    assert [WireCodec().decode(m.value()).record["event_id"] for m in messages] == [valid]
