"""Validation before anything leaves the process: InvalidEvent naming the field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dua_producer import AuditClient, MemoryTransport
from dua_producer.access_shape import PLACEHOLDER_SUBJECT, access_template, per_call_fields_pass
from dua_schemas import InvalidEvent, validate_event


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"elements": []}, "elements"),
        ({"elements": "user.name"}, "elements"),
        ({"elements": ["user.name", 7]}, "elements[1]"),
        ({"elements": [""]}, "elements[0]"),
        ({"operation": "PEEK"}, "operation"),
        ({"processing": "ANONYMOUS"}, "processing"),
        ({"destination": "MARS"}, "destination.kind"),
        ({"actor_kind": "ROBOT"}, "actor.kind"),
        ({"purpose": 12}, "purpose"),
        ({"targeting_opt_out": "yes"}, "consent.targeting_opt_out"),
        ({"record_count": "3"}, "record_count"),
        ({"record_count": -1}, "record_count"),
        ({"record_count": True}, "record_count"),
        ({"trace_id": "  "}, "trace_id"),
        ({"trace_id": "t" * 600}, "trace_id"),
        ({"attributes": {"k": 1}}, "attributes.k"),
        ({"attributes": ["k"]}, "attributes"),
        ({"event_id": "not-a-uuid"}, "event_id"),
        ({"occurred_at": datetime(2026, 1, 1)}, "occurred_at"),  # noqa: DTZ001 - the point
        ({"elements": [f"user.custom.e{i}" for i in range(300)]}, "elements"),
    ],
)
def test_invalid_events_raise_before_sending(
    client: AuditClient, transport: MemoryTransport, arguments: dict[str, Any], field: str
) -> None:
    """Each kind of contract breach is an InvalidEvent naming the field; nothing is sent."""
    call: dict[str, Any] = {"elements": ["user.name"], "subject": "u-1"} | arguments
    with pytest.raises(InvalidEvent) as caught:
        client.emit(**call)
    assert caught.value.field == field
    assert field in str(caught.value)
    assert transport.messages == []
    assert client.stats().emitted == 0


def test_oversized_event_is_refused(
    client_factory: Callable[..., AuditClient], transport: MemoryTransport
) -> None:
    """An event encoding past max_event_bytes is an InvalidEvent, not a Kafka error later."""
    client = client_factory(max_event_bytes=1024)
    attributes = {f"note{i}": "x" * 200 for i in range(8)}
    with pytest.raises(InvalidEvent, match="at most 1024"):
        client.emit(["user.name"], attributes=attributes)
    assert transport.messages == []


def test_missing_purpose_and_unknown_elements_are_allowed(
    client: AuditClient, sent: Callable[[], list[dict[str, Any]]]
) -> None:
    """No purpose and element codes the policy does not know are the pipeline's findings."""
    client.emit(["user.unheard_of.thing"])
    (event,) = sent()
    assert event["purpose"] is None
    assert event["elements"] == ["user.unheard_of.thing"]


def test_a_bad_call_does_not_poison_the_shape_cache(
    client: AuditClient, sent: Callable[[], list[dict[str, Any]]]
) -> None:
    """A valid call after an invalid one with the same fixed fields still validates per call."""
    client.emit(["user.name"], "service.inquiry_response", subject="u-1")
    with pytest.raises(InvalidEvent, match="record_count"):
        client.emit(["user.name"], "service.inquiry_response", subject="u-1", record_count=-5)
    client.emit(["user.name"], "service.inquiry_response", subject="u-1", record_count=5)
    assert [e["record_count"] for e in sent()] == [1, 5]


@given(
    record_count=st.one_of(
        st.integers(min_value=-(2**40), max_value=2**40), st.booleans(), st.floats(), st.text()
    ),
    trace_id=st.one_of(st.none(), st.text(max_size=700), st.integers(), st.binary(max_size=5)),
)
def test_quick_check_never_accepts_what_validate_event_refuses(
    record_count: object, trace_id: object
) -> None:
    """`per_call_fields_pass` may say "not sure" but never yes to a value the contract refuses."""
    template = access_template(
        service="jalan",
        actor_kind="SERVICE",
        actor_id="api",
        elements=["user.name"],
        purpose=None,
        operation="READ",
        processing="RAW",
        destination="INTERNAL",
        destination_name=None,
        origin_service=None,
        targeting_opt_out=False,
        publication_consent=False,
        payroll_other_use_consent=False,
        attributes=None,
    )
    record = template | {
        "record_count": record_count,
        "trace_id": trace_id,
        "subject_id": PLACEHOLDER_SUBJECT,
        "occurred_at": datetime.now(UTC),
    }
    if per_call_fields_pass(record_count, trace_id):
        validate_event(record)  # must not raise
