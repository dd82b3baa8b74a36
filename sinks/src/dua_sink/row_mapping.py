"""Decoded records → table rows, in the column order of `tables`.

Mapping is total for any record that fits its schema, except for a timestamp outside what
ClickHouse's DateTime64 can store: that record becomes a rejected row (`RowRejected`) rather than
an insert that fails forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dua_sink.errors import RowRejected

PREFIX_LIMIT = 1024
DETAIL_LIMIT = 2000
SINK_DECODE_STEP = "sink.decode"
# DateTime64's range; a value outside it would make the whole batch's insert fail.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2299, 12, 31, tzinfo=UTC)

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record was read: topic, partition, offset (and the message's timestamp)."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime


def _time(record: dict[str, Any], field: str) -> datetime:
    value = record[field]
    if not isinstance(value, datetime) or not EARLIEST <= value <= LATEST:
        raise RowRejected("timestamp_out_of_range", f"{field} {value!r} is outside 1900..2299")
    return value


def access_event_row(record: dict[str, Any], source: Source) -> Row:
    """A TaggedAccessEvent as an `access_events` row."""
    elements = record["elements"]
    violations = record["violations"]
    actor = record["actor"]
    destination = record["destination"]
    consent = record["consent"]
    provision = record["provision"]
    return (
        record["event_id"],
        _time(record, "occurred_at"),
        _time(record, "processed_at"),
        record["policy_version"],
        record["service"],
        actor["kind"],
        actor["id"],
        record["subject_id"] or "",
        [element["code"] for element in elements],
        [element["category"] for element in elements],
        [element["sensitivity"] or "" for element in elements],
        record["purpose"] or "",
        record["purpose_category"] or "",
        record["purpose_known"],
        record["operation"],
        record["processing"],
        destination["kind"],
        destination["name"] or "",
        record["origin_service"] or "",
        consent["targeting_opt_out"],
        consent["publication_consent"],
        consent["payroll_other_use_consent"],
        record["record_count"],
        record["trace_id"] or "",
        dict(record["attributes"]),
        [violation["rule"] for violation in violations],
        [violation["severity"] for violation in violations],
        [violation["mode"] for violation in violations],
        provision["third_party"],
        provision["recipient_registered"],
        provision["recipient_address"] or "",
        provision["recipient_representative"] or "",
        provision["basis"] or "",
        provision["linkable"],
        provision["link_consent"],
        source.partition,
        source.offset,
    )


def violation_row(record: dict[str, Any], source: Source) -> Row:
    """A Violation as a `violations` row."""
    return (
        record["violation_id"],
        record["event_id"],
        _time(record, "occurred_at"),
        _time(record, "detected_at"),
        record["policy_version"],
        record["rule"],
        record["severity"],
        record["mode"],
        record["service"],
        record["actor_kind"],
        record["actor_id"],
        record["subject_id"] or "",
        record["purpose"] or "",
        record["purpose_category"] or "",
        record["destination_kind"],
        list(record["elements"]),
        record["message"],
        record["trace_id"] or "",
        record.get("detected_late_ms", 0),  # Violation v2; 0: found on time
        source.partition,
        source.offset,
    )


def dlq_row(record: dict[str, Any], source: Source) -> Row:
    """A RejectedEvent from the DLQ topic as a `rejected_events` row."""
    return (
        _time(record, "rejected_at"),
        record["step_id"],
        record["reason"],
        record["detail"][:DETAIL_LIMIT],
        record["source_topic"],
        record["source_partition"],
        record["source_offset"],
        record["payload_size"],
        bytes(record["payload_prefix"][:PREFIX_LIMIT]),
        bytes(record["key"] or b""),
        source.topic,
        source.partition,
        source.offset,
    )


def undecodable_row(
    reason: str, detail: str, payload: bytes, key: bytes | None, source: Source
) -> Row:
    """A message the sink could not turn into a row, as a `rejected_events` row."""
    return (
        source.timestamp,
        SINK_DECODE_STEP,
        reason,
        detail[:DETAIL_LIMIT],
        source.topic,
        source.partition,
        source.offset,
        len(payload),
        payload[:PREFIX_LIMIT],
        key or b"",
        source.topic,
        source.partition,
        source.offset,
    )
