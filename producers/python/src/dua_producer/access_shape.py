"""What one call site fixes about its accesses, validated and pre-encoded once.

An access's *shape* is everything but the per-call fields (event id, time, subject, record
count, trace id). The client keeps shapes by their arguments, so a call site repeating the
same elements and purpose is checked by `validate_event` once, not on every event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from dua_schemas import InvalidEvent, validate_event
from dua_schemas.avro_writer import map_in_order
from dua_schemas.validation import MAX_RECORD_COUNT, MAX_TEXT_LENGTH

# Stand-ins for the per-call fields while a shape is checked: valid values of the same type.
PLACEHOLDER_EVENT_ID: Final = "00000000-0000-4000-8000-000000000000"
PLACEHOLDER_TIME: Final = datetime(2026, 1, 1, tzinfo=UTC)
PLACEHOLDER_SUBJECT: Final = "0" * 64  # a pseudonym is 64 hex characters


# What a call site gets when it leaves a field out.
SHAPE_DEFAULTS: Final[Mapping[str, Any]] = {
    "purpose": None,
    "operation": "READ",
    "processing": "RAW",
    "destination": "INTERNAL",
    "destination_name": None,
    "origin_service": None,
    "targeting_opt_out": False,
    "publication_consent": False,
    "payroll_other_use_consent": False,
    "attributes": None,
}


@dataclass(frozen=True, slots=True)
class AccessShape:
    """A validated template record and the encoder's pre-encoded form of it."""

    template: Mapping[str, Any]
    prepared: Any


def access_template(
    *,
    service: str,
    actor_kind: str,
    actor_id: str,
    elements: Sequence[str],
    purpose: str | None,
    operation: str,
    processing: str,
    destination: str,
    destination_name: str | None,
    origin_service: str | None,
    targeting_opt_out: bool,
    publication_consent: bool,
    payroll_other_use_consent: bool,
    attributes: Mapping[str, str] | None,
) -> dict[str, Any]:
    """A full DataAccessEvent record with placeholder per-call fields, validated.

    Raises `InvalidEvent` naming the first wrong field.
    """
    if isinstance(elements, str | bytes) or not isinstance(elements, Sequence):
        raise InvalidEvent("elements", "must be a list of element codes (not a single string)")
    if attributes is not None and not isinstance(attributes, Mapping):
        raise InvalidEvent("attributes", f"must be a mapping, got {type(attributes).__name__}")
    record: dict[str, Any] = {
        "event_id": PLACEHOLDER_EVENT_ID,
        "occurred_at": PLACEHOLDER_TIME,
        "service": service,
        "actor": {"kind": actor_kind, "id": actor_id},
        "subject_id": PLACEHOLDER_SUBJECT,
        "elements": list(elements),
        "purpose": purpose,
        "operation": operation,
        "processing": processing,
        "destination": {"kind": destination, "name": destination_name},
        "origin_service": origin_service,
        "consent": {
            "targeting_opt_out": targeting_opt_out,
            "publication_consent": publication_consent,
            "payroll_other_use_consent": payroll_other_use_consent,
        },
        "record_count": 1,
        "trace_id": None,
        "attributes": map_in_order(attributes or {}),  # the one order every SDK writes
    }
    validate_event(record)
    return record


def check_call_site(elements: Sequence[str], purpose: str | None = None, **fields: Any) -> None:
    """Validate a call site's fixed fields without a client (decorators, at import time)."""
    unknown = sorted(set(fields) - set(SHAPE_DEFAULTS) - {"actor_kind", "actor_id"})
    if unknown:
        raise TypeError(f"unexpected access field(s): {', '.join(unknown)}")
    values = {**SHAPE_DEFAULTS, **fields, "purpose": purpose}
    access_template(
        service="call-site-check",
        actor_kind=values.pop("actor_kind", None) or "SERVICE",
        actor_id=values.pop("actor_id", None) or "call-site-check",
        elements=elements,
        **values,
    )


def per_call_fields_pass(record_count: object, trace_id: object) -> bool:
    """True only if `validate_event` would accept these per-call values (a quick yes).

    The shape was validated once; checking a whole record again for two scalars costs ~8 µs
    per event. False means "not sure": the caller then runs `validate_event`, which gives
    the authoritative answer and message. A test holds this to never say yes wrongly.
    """
    return (
        type(record_count) is int
        and 0 <= record_count <= MAX_RECORD_COUNT
        and (
            trace_id is None
            or (
                (type(trace_id) is str and 0 < len(trace_id) <= MAX_TEXT_LENGTH)
                and not trace_id.isspace()
            )
        )
    )
