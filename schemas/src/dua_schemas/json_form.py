"""The JSON form of events, used by the CLI and by other-language SDK test vectors.

Same field names as the Avro records; enums as strings; `occurred_at` as ISO-8601 with a
zone (`2026-11-01T10:00:00Z`) or epoch milliseconds; omitted optional fields take their
defaults. Unknown fields are an error: a misspelt `pourpose` must not pass silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal, cast

from dua_schemas.errors import InvalidEvent
from dua_schemas.records import (
    CONSENT_CHANGE_FLAGS,
    CONSENT_FLAGS,
    ConsentChange,
    DataAccessEvent,
)
from dua_schemas.validation import validate_consent, validate_event

_EVENT_DEFAULTS: dict[str, Any] = {
    "subject_id": None,
    "purpose": None,
    "operation": "READ",
    "processing": "RAW",
    "origin_service": None,
    "record_count": 1,
    "trace_id": None,
}
_REQUIRED = ("event_id", "occurred_at", "service", "actor", "elements")
_EVENT_FIELDS = (
    frozenset(_REQUIRED)
    | frozenset(_EVENT_DEFAULTS)
    | {
        "destination",
        "consent",
        "attributes",
    }
)
_CONSENT_FIELDS = frozenset({"subject_id", "occurred_at", *CONSENT_CHANGE_FLAGS})


def parse_timestamp(value: Any, field: str = "occurred_at") -> datetime:
    """ISO-8601 with a zone, or epoch milliseconds, to an aware UTC datetime."""
    if isinstance(value, bool):
        raise InvalidEvent(field, "must be an ISO-8601 string or epoch milliseconds", "wrong_type")
    if isinstance(value, int):
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidEvent(
                field, f"{value} is out of range for epoch milliseconds", "out_of_range"
            ) from None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidEvent(
                field, f"{value!r} is not an ISO-8601 timestamp", "not_timestamp"
            ) from None
        if parsed.tzinfo is None:
            raise InvalidEvent(
                field, f"{value!r} has no time zone; add Z or an offset", "no_timezone"
            )
        return parsed.astimezone(UTC)
    raise InvalidEvent(field, "must be an ISO-8601 string or epoch milliseconds", "wrong_type")


def _object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidEvent(field, f"must be an object, got {type(value).__name__}", "wrong_type")
    return value


def _no_unknown(obj: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(obj) - known)
    if unknown:
        prefix = f"{where}." if where else ""
        raise InvalidEvent(prefix + unknown[0], "is not a field of the contract", "unknown_field")


def event_from_json(obj: Any) -> DataAccessEvent:
    """Build and validate a DataAccessEvent record from its JSON form."""
    obj = _object(obj, "event")
    _no_unknown(obj, _EVENT_FIELDS, "")
    for name in _REQUIRED:
        if name not in obj:
            raise InvalidEvent(name, "is required", "required")
    record: dict[str, Any] = {
        name: obj.get(name, default) for name, default in _EVENT_DEFAULTS.items()
    }
    record["event_id"] = obj["event_id"]
    record["occurred_at"] = parse_timestamp(obj["occurred_at"])
    record["service"] = obj["service"]
    actor = _object(obj["actor"], "actor")
    _no_unknown(actor, frozenset({"kind", "id"}), "actor")
    record["actor"] = {"kind": actor.get("kind"), "id": actor.get("id")}
    record["elements"] = (
        list(obj["elements"]) if isinstance(obj["elements"], list) else obj["elements"]
    )
    destination = _object(obj.get("destination", {}), "destination")
    _no_unknown(destination, frozenset({"kind", "name"}), "destination")
    record["destination"] = {
        "kind": destination.get("kind", "INTERNAL"),
        "name": destination.get("name"),
    }
    consent = _object(obj.get("consent", {}), "consent")
    _no_unknown(consent, frozenset(CONSENT_FLAGS), "consent")
    record["consent"] = {flag: consent.get(flag, False) for flag in CONSENT_FLAGS}
    record["attributes"] = dict(_object(obj.get("attributes", {}), "attributes"))
    validate_event(record)
    return cast(DataAccessEvent, record)


def consent_from_json(obj: Any) -> ConsentChange:
    """Build and validate a ConsentChange record from its JSON form."""
    obj = _object(obj, "consent change")
    _no_unknown(obj, _CONSENT_FIELDS, "")
    for name in ("subject_id", "occurred_at"):
        if name not in obj:
            raise InvalidEvent(name, "is required", "required")
    record: dict[str, Any] = {flag: obj.get(flag, False) for flag in CONSENT_CHANGE_FLAGS}
    record["subject_id"] = obj["subject_id"]
    record["occurred_at"] = parse_timestamp(obj["occurred_at"])
    validate_consent(record)
    return cast(ConsentChange, record)


def parse_json_line(
    obj: Any,
) -> tuple[Literal["access"], DataAccessEvent] | tuple[Literal["consent"], ConsentChange]:
    """A line of a mixed stream: `"type": "consent"` marks a ConsentChange, else an access."""
    obj = _object(obj, "line")
    kind = obj.get("type", "access")
    body = {k: v for k, v in obj.items() if k != "type"}
    if kind == "consent":
        return "consent", consent_from_json(body)
    if kind == "access":
        return "access", event_from_json(body)
    raise InvalidEvent("type", f"{kind!r} is not 'access' or 'consent'")


def to_json(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record (any of ours) as JSON-ready data: datetimes as ISO-8601 UTC with `Z`."""
    return {key: _jsonable(value) for key, value in record.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value
