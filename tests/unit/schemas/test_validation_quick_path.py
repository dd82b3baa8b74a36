"""`validate_event`'s quick yes never accepts what the full checks refuse."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dua_schemas import InvalidEvent, event_from_json, validate_event
from dua_schemas.validation import _plainly_valid, check_event_fully


def _valid() -> dict[str, Any]:
    """A valid event in record form, every field present (the JSON form's defaults)."""
    return dict(
        event_from_json(
            {
                "event_id": "11111111-2222-4333-8444-555555555555",
                "occurred_at": "2026-11-01T00:00:00Z",
                "service": "rikunabi",
                "actor": {"kind": "SERVICE", "id": "verify-api"},
                "subject_id": "p" * 64,
                "elements": ["user.name", "user.contact.phone"],
                "purpose": "service.identity_verification",
            }
        )
    )


# Where a value can sit in an event: (path of keys).
PATHS = [
    ("event_id",),
    ("occurred_at",),
    ("service",),
    ("actor", "kind"),
    ("actor", "id"),
    ("actor",),
    ("subject_id",),
    ("elements",),
    ("purpose",),
    ("operation",),
    ("processing",),
    ("destination", "kind"),
    ("destination", "name"),
    ("destination",),
    ("origin_service",),
    ("consent", "targeting_opt_out"),
    ("consent",),
    ("record_count",),
    ("trace_id",),
    ("attributes",),
]

TEXTS = st.one_of(
    st.text(max_size=140),
    st.text(alphabet=" \t\n\u3000\u00a0", max_size=4),  # whitespace only, Unicode included
    st.sampled_from(["READ", "SERVICE", "INTERNAL", "RAW", "x" * 129, "y" * 513, ""]),
    st.sampled_from(
        ["11111111-2222-4333-8444-55555555555G", "{11111111-2222-4333-8444-555555555555}"]
    ),
)
VALUES = st.one_of(
    st.none(),
    TEXTS,
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False),
    st.lists(TEXTS, max_size=4),
    st.lists(st.integers(), min_size=1, max_size=2),
    st.dictionaries(TEXTS, st.one_of(TEXTS, st.integers()), max_size=3),
    st.just(datetime(2026, 1, 1)),  # noqa: DTZ001 - naive on purpose
    st.just(datetime(2026, 1, 1, tzinfo=UTC)),
    st.just([f"user.e{i}" for i in range(257)]),
    st.just({f"k{i}": "v" for i in range(33)}),
)


@settings(max_examples=600, deadline=None)
@given(changes=st.lists(st.tuples(st.sampled_from(PATHS), VALUES), max_size=3))
def test_quick_yes_only_for_events_the_full_checks_accept(
    changes: list[tuple[tuple[str, ...], Any]],
) -> None:
    event = _valid()
    for path, value in changes:
        target = event
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                break
            target = target[key]
        else:
            target[path[-1]] = copy.deepcopy(value)
    if _plainly_valid(event):
        check_event_fully(event)  # must not raise


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("event_id",), "11111111-2222-4333-8444-55555555555G", "event_id"),
        (("service",), " \u3000", "service"),
        (("actor", "kind"), "ROBOT", "actor.kind"),
        (("elements",), ["user.name", "x" * 129], "elements[1]"),
        (("consent", "publication_consent"), 1, "consent.publication_consent"),
        (("record_count",), True, "record_count"),
        (("attributes",), {"k": "v" * 513}, "attributes.k"),
    ],
)
def test_quick_path_still_names_the_field(path: tuple[str, ...], value: Any, field: str) -> None:
    """An event the quick check does not accept gets the full checks' message."""
    event = _valid()
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InvalidEvent) as raised:
        validate_event(event)
    assert raised.value.field == field


def test_the_common_event_takes_the_quick_path() -> None:
    """Otherwise the quick path would be dead code and the processor pays full price."""
    assert _plainly_valid(_valid())
    assert not _plainly_valid({**_valid(), "event_id": "{11111111-2222-4333-8444-555555555555}"})
    validate_event({**_valid(), "event_id": "{11111111-2222-4333-8444-555555555555}"})
