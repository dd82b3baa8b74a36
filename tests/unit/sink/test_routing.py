"""Messages of the sink's topics map to rows; bad input becomes a rejected row, never an error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dua_schemas import WireCodec
from dua_sink import RecordRouter, SinkTopics
from dua_sink.row_mapping import Source
from dua_sink.tables import ACCESS_EVENT_COLUMNS, REJECTED_EVENT_COLUMNS, VIOLATION_COLUMNS
from dua_sink.testing import (
    rejected_record,
    tagged_event,
    violation_record,
    violation_summary,
)

TOPICS = SinkTopics(tagged="t.tagged", violations="t.violations", dlq="t.dlq")
WHEN = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def codec() -> WireCodec:
    return WireCodec()


@pytest.fixture
def router(codec: WireCodec) -> RecordRouter:
    return RecordRouter(TOPICS, codec)


def _source(topic: str, offset: int = 17) -> Source:
    return Source(topic, 2, offset, WHEN)


def test_tagged_event_becomes_an_access_events_row(codec: WireCodec, router: RecordRouter) -> None:
    """Every column of access_events is filled from the record, absent values as ''."""
    event = tagged_event(
        elements=[
            {"code": "user.financial.salary", "category": "personal", "sensitivity": "high"},
            {"code": "user.device.ad_id", "category": "informative", "sensitivity": None},
        ],
        origin_service="airwork-payroll",
        destination={"kind": "EMPLOYER", "name": "acme"},
        attributes={"job": "nightly"},
        violations=[violation_summary("employer_disclosure", "critical")],
        subject_id=None,
    )
    routed = router.route(_source("t.tagged"), codec.encode("TaggedAccessEvent", event), None)
    assert routed.table == "access_events"
    assert routed.rejected is None
    row = dict(zip(ACCESS_EVENT_COLUMNS, routed.row, strict=True))
    assert row["event_id"] == event["event_id"]
    assert row["elements"] == ["user.financial.salary", "user.device.ad_id"]
    assert row["element_categories"] == ["personal", "informative"]
    assert row["element_sensitivities"] == ["high", ""]
    assert row["subject_id"] == ""
    assert row["destination_kind"] == "EMPLOYER"
    assert row["destination_name"] == "acme"
    assert row["origin_service"] == "airwork-payroll"
    assert row["violation_rules"] == ["employer_disclosure"]
    assert row["violation_severities"] == ["critical"]
    assert row["violation_modes"] == ["active"]
    assert row["attributes"] == {"job": "nightly"}
    assert (row["source_partition"], row["source_offset"]) == (2, 17)
    assert row["occurred_at"] == event["occurred_at"]


def test_violation_becomes_a_violations_row(codec: WireCodec, router: RecordRouter) -> None:
    """A Violation record fills the violations table column for column."""
    record = violation_record(tagged_event(), "purpose_not_permitted", "medium")
    routed = router.route(_source("t.violations"), codec.encode("Violation", record), None)
    row = dict(zip(VIOLATION_COLUMNS, routed.row, strict=True))
    assert routed.table == "violations"
    assert row["violation_id"] == record["violation_id"]
    assert row["rule"] == "purpose_not_permitted"
    assert row["elements"] == ["user.name"]


def test_dlq_record_keeps_its_origin_and_a_bounded_prefix(
    codec: WireCodec, router: RecordRouter
) -> None:
    """A RejectedEvent keeps the original topic/offset; the sink notes where it read it."""
    record = rejected_record(payload_prefix=b"x" * 1024, key=b"k1")
    routed = router.route(_source("t.dlq", 5), codec.encode("RejectedEvent", record), b"k1")
    row = dict(zip(REJECTED_EVENT_COLUMNS, routed.row, strict=True))
    assert routed.table == "rejected_events"
    assert row["source_topic"] == "dua.access.raw"
    assert row["source_offset"] == 42
    assert row["received_topic"] == "t.dlq"
    assert row["received_offset"] == 5
    assert len(row["payload_prefix"]) == 1024
    assert row["key"] == b"k1"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty_payload"),
        (None, "empty_payload"),
        (b"garbage that is not avro", "unknown_framing"),
        (b"\xc3\x01\x00", "truncated"),
    ],
)
def test_undecodable_payload_becomes_a_rejected_row(
    router: RecordRouter, payload: bytes | None, reason: str
) -> None:
    """The codec's reason is kept; size and a prefix of at most 1024 bytes are stored."""
    routed = router.route(_source("t.tagged"), payload, b"key")
    row = dict(zip(REJECTED_EVENT_COLUMNS, routed.row, strict=True))
    assert routed.table == "rejected_events"
    assert routed.rejected == reason
    assert row["reason"] == reason
    assert row["step_id"] == "sink.decode"
    assert row["source_topic"] == "t.tagged"
    assert row["payload_size"] == len(payload or b"")
    assert row["rejected_at"] == WHEN


def test_a_record_of_another_type_on_a_topic_is_rejected(
    codec: WireCodec, router: RecordRouter
) -> None:
    """A valid Violation on the tagged topic is not silently written as an access event."""
    payload = codec.encode("Violation", violation_record(tagged_event(), "x", "low"))
    assert router.route(_source("t.tagged"), payload, None).rejected == "unexpected_record"


def test_a_timestamp_clickhouse_cannot_store_is_rejected(
    codec: WireCodec, router: RecordRouter
) -> None:
    """Year 2500 fits Avro but not DateTime64: the record is rejected, the batch still inserts."""
    event = tagged_event(occurred_at=datetime(2500, 1, 1, tzinfo=UTC))
    routed = router.route(_source("t.tagged"), codec.encode("TaggedAccessEvent", event), None)
    assert routed.rejected == "timestamp_out_of_range"


def test_long_payload_prefix_is_cut_to_1024_bytes(router: RecordRouter) -> None:
    """Only a bounded prefix of an undecodable payload is stored."""
    routed = router.route(_source("t.tagged"), b"\x01" * 5000, None)
    row = dict(zip(REJECTED_EVENT_COLUMNS, routed.row, strict=True))
    assert row["payload_size"] == 5000
    assert len(row["payload_prefix"]) == 1024
