"""The wire codec: both framings decode, and every kind of bad input is a named rejection."""

from __future__ import annotations

from typing import Any

import pytest

from dua_schemas import (
    InvalidEvent,
    UndecodablePayload,
    UnknownSchema,
    WireCodec,
    consent_from_json,
    event_from_json,
)


class FakeRegistry:
    """An in-memory schema registry: ids handed out in registration order."""

    def __init__(self) -> None:
        self.schemas: dict[int, dict[str, Any]] = {}
        self.subjects: dict[str, int] = {}

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        if subject not in self.subjects:
            self.subjects[subject] = len(self.schemas) + 1
            self.schemas[self.subjects[subject]] = schema
        return self.subjects[subject]

    def lookup(self, schema_id: int) -> dict[str, Any]:
        return self.schemas[schema_id]


@pytest.fixture
def event(event_json: dict[str, Any]) -> dict[str, Any]:
    """A valid record."""
    return dict(event_from_json(event_json))


def test_single_object_round_trip(event: dict[str, Any]) -> None:
    """What is encoded decodes to the same record."""
    codec = WireCodec()
    decoded = codec.decode(codec.encode("DataAccessEvent", event), expected="DataAccessEvent")
    assert decoded.record == event
    assert decoded.writer_version == 1


def test_confluent_framing_round_trip_and_cross_reading(event: dict[str, Any]) -> None:
    """Registry framing is 00 + schema id; a reader with the registry takes both framings."""
    registry = FakeRegistry()
    writer = WireCodec(registry=registry)
    framed = writer.encode("DataAccessEvent", event)
    assert framed[0] == 0
    assert int.from_bytes(framed[1:5], "big") == registry.subjects["dua.audit.DataAccessEvent"]
    reader = WireCodec(registry=registry)
    assert reader.decode(framed).record == event
    assert reader.decode(WireCodec().encode("DataAccessEvent", event)).record == event


def test_registry_framing_without_registry_is_rejected(event: dict[str, Any]) -> None:
    """A registry-framed message reaching a reader with no registry is a rejection, not a crash."""
    framed = WireCodec(registry=FakeRegistry()).encode("DataAccessEvent", event)
    with pytest.raises(UnknownSchema) as caught:
        WireCodec().decode(framed)
    assert caught.value.reason == "no_registry"


def test_foreign_schema_in_registry_is_rejected(event: dict[str, Any]) -> None:
    """A registry id holding a schema that is not ours is an unknown schema."""
    registry = FakeRegistry()
    registry.register("other", {"type": "record", "name": "Other", "fields": []})
    with pytest.raises(UnknownSchema) as caught:
        WireCodec(registry=registry).decode(b"\x00\x00\x00\x00\x01")
    assert caught.value.reason == "unknown_schema_id"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty_payload"),
        (b'{"event_id": 1}', "unknown_framing"),
        (b"\xc3\x01\x00\x01", "truncated"),
        (b"\xc3\x01" + b"\xff" * 8 + b"\x00", "unknown_fingerprint"),
        (b"\x00\x00", "truncated"),
    ],
)
def test_bad_payloads_are_named(payload: bytes, reason: str) -> None:
    """Garbage raises UndecodablePayload with a stable reason code."""
    with pytest.raises(UndecodablePayload) as caught:
        WireCodec().decode(payload)
    assert caught.value.reason == reason


def test_truncated_body_and_trailing_bytes(event: dict[str, Any]) -> None:
    """A cut body and extra bytes after a body are both rejected."""
    good = WireCodec().encode("DataAccessEvent", event)
    with pytest.raises(UndecodablePayload) as cut:
        WireCodec().decode(good[:-7])
    assert cut.value.reason in {"truncated", "corrupt_body"}
    with pytest.raises(UndecodablePayload) as extra:
        WireCodec().decode(good + b"\x00")
    assert extra.value.reason == "trailing_bytes"


def test_unexpected_record_kind_is_rejected() -> None:
    """A valid ConsentChange on a topic that expects access events is rejected."""
    change = consent_from_json({"subject_id": "p", "occurred_at": 0})
    payload = WireCodec().encode("ConsentChange", dict(change))
    with pytest.raises(UndecodablePayload) as caught:
        WireCodec().decode(payload, expected="DataAccessEvent")
    assert caught.value.reason == "unexpected_record"


def test_encoding_a_record_that_does_not_fit_names_the_record(event: dict[str, Any]) -> None:
    """A record with a wrong type raises InvalidEvent instead of writing bad bytes."""
    event["record_count"] = "many"
    with pytest.raises(InvalidEvent, match="DataAccessEvent"):
        WireCodec().encode("DataAccessEvent", event)


def test_an_int_past_64_bits_is_an_invalid_event_not_an_overflow(event: dict[str, Any]) -> None:
    """fastavro raises OverflowError (not a ValueError) there: it is named like the rest."""
    event["record_count"] = 2**64
    with pytest.raises(InvalidEvent, match="DataAccessEvent"):
        WireCodec().encode("DataAccessEvent", event)
