"""The JSON form: defaults, timestamps, and an error naming the field for each kind of mistake."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dua_schemas import InvalidEvent, event_from_json, parse_json_line, to_json
from dua_schemas.validation import MAX_ELEMENTS


def test_defaults_are_applied(event_json: dict[str, Any]) -> None:
    """Omitted optional fields take the contract's defaults."""
    record = event_from_json(event_json)
    assert record["operation"] == "READ"
    assert record["processing"] == "RAW"
    assert record["destination"] == {"kind": "INTERNAL", "name": None}
    assert record["consent"] == {
        "targeting_opt_out": False,
        "publication_consent": False,
        "payroll_other_use_consent": False,
    }
    assert record["record_count"] == 1
    assert record["attributes"] == {}


def test_offsets_are_normalised_to_utc(event_json: dict[str, Any]) -> None:
    """An ISO time with +09:00 becomes the same instant in UTC."""
    assert event_from_json(event_json)["occurred_at"] == datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def test_epoch_milliseconds_are_accepted(event_json: dict[str, Any]) -> None:
    """An integer occurred_at is read as epoch milliseconds."""
    event_json["occurred_at"] = 1_000
    assert event_from_json(event_json)["occurred_at"] == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"elements": []}, "elements"),
        ({"elements": ["user.name", 3]}, "elements[1]"),
        ({"elements": ["x"] * (MAX_ELEMENTS + 1)}, "elements"),
        ({"operation": "PEEK"}, "operation"),
        ({"processing": "ANONYMOUS"}, "processing"),
        ({"event_id": "not-a-uuid"}, "event_id"),
        ({"occurred_at": "2026-11-01T10:00:00"}, "occurred_at"),
        ({"occurred_at": True}, "occurred_at"),
        ({"actor": {"kind": "ROBOT", "id": "r"}}, "actor.kind"),
        ({"actor": {"kind": "USER", "id": ""}}, "actor.id"),
        ({"destination": {"kind": "MOON"}}, "destination.kind"),
        ({"consent": {"targeting_opt_out": "yes"}}, "consent.targeting_opt_out"),
        ({"consent": {"opt_out": True}}, "consent.opt_out"),
        ({"record_count": -1}, "record_count"),
        ({"record_count": 1.5}, "record_count"),
        ({"service": ""}, "service"),
        ({"pourpose": "x"}, "pourpose"),
        ({"attributes": {"k": 1}}, "attributes.k"),
    ],
)
def test_invalid_fields_are_named(
    event_json: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    """Each kind of mistake raises InvalidEvent naming the offending field."""
    event_json.update(change)
    with pytest.raises(InvalidEvent) as caught:
        event_from_json(event_json)
    assert caught.value.field == field


def test_missing_required_field_is_named(event_json: dict[str, Any]) -> None:
    """Dropping a required field names it."""
    del event_json["service"]
    with pytest.raises(InvalidEvent, match="service: is required"):
        event_from_json(event_json)


def test_missing_purpose_is_allowed(event_json: dict[str, Any]) -> None:
    """An event without purpose is valid: the pipeline reports it as undeclared."""
    del event_json["purpose"]
    assert event_from_json(event_json)["purpose"] is None


def test_consent_lines_are_told_apart(event_json: dict[str, Any]) -> None:
    """A line with type consent parses as a ConsentChange, others as access events."""
    kind, change = parse_json_line(
        {"type": "consent", "subject_id": "p-1", "occurred_at": 0, "targeting_opt_out": True}
    )
    assert kind == "consent"
    assert change["targeting_opt_out"] is True
    assert change["publication_consent"] is False
    kind, event = parse_json_line(event_json)
    assert kind == "access"
    assert event["service"] == "rikunabi"
    with pytest.raises(InvalidEvent, match="type"):
        parse_json_line({"type": "other"})


def test_to_json_writes_utc_z(event_json: dict[str, Any]) -> None:
    """Serialised timestamps are ISO-8601 in UTC with a Z suffix."""
    assert to_json(event_from_json(event_json))["occurred_at"] == "2026-11-01T01:00:00.000Z"
