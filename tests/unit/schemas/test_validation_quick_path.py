"""`validate_event`'s quick yes never accepts what the full checks refuse."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dua_schemas import InvalidEvent, event_from_json, validate_event
from dua_schemas.avro_reader import native_build
from dua_schemas.validation import _plainly_valid, _quick_yes, check_event_fully, quick_spec

_NATIVE = native_build("Checker", quick_spec())
QuickCheck = Callable[[Any], bool]


@pytest.fixture(scope="module", params=["python", "native"])
def quick(request: pytest.FixtureRequest) -> QuickCheck:
    """Each quick yes: the Python one and the native `Checker` built from `quick_spec()`."""
    if request.param == "python":
        return _plainly_valid
    if _NATIVE is None:
        # under CI the native reader tests fail when it is missing; no need to fail twice
        pytest.skip("dua_schemas_native is not installed (`make setup` builds it with cargo)")
    return cast(QuickCheck, _NATIVE.check)


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


def _changed(changes: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    event = _valid()
    for path, value in changes:
        target = event
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                break
            target = target[key]
        else:
            target[path[-1]] = copy.deepcopy(value)
    return event


CHANGES = st.lists(st.tuples(st.sampled_from(PATHS), VALUES), max_size=3)


@settings(max_examples=600, deadline=None)
@given(changes=CHANGES)
def test_quick_yes_only_for_events_the_full_checks_accept(
    quick: QuickCheck, changes: list[tuple[tuple[str, ...], Any]]
) -> None:
    event = _changed(changes)
    if quick(event):
        check_event_fully(event)  # must not raise


@settings(max_examples=600, deadline=None)
@given(changes=CHANGES)
def test_the_native_quick_yes_answers_as_the_python_one(
    changes: list[tuple[tuple[str, ...], Any]],
) -> None:
    """Same answer on every event, not only sound: else the native one would send valid
    events down the slow path, or the Python one would be the only one tested for yes."""
    if _NATIVE is None:
        pytest.skip("dua_schemas_native is not installed (`make setup` builds it with cargo)")
    event = _changed(changes)
    assert _NATIVE.check(event) == _plainly_valid(event)


def test_blank_is_what_python_calls_whitespace() -> None:
    """Rust's idea of whitespace differs (U+001C..U+001F); the native check uses Python's."""
    if _NATIVE is None:
        pytest.skip("dua_schemas_native is not installed (`make setup` builds it with cargo)")
    event = _valid()
    for point in [*range(0xD800), *range(0xE000, 0x3100)]:
        char = chr(point)
        event["service"] = char * 2
        assert _NATIVE.check(event) == (not char.isspace()), hex(point)


def test_lone_surrogates_are_left_to_the_full_checks() -> None:
    if _NATIVE is None:
        pytest.skip("dua_schemas_native is not installed (`make setup` builds it with cargo)")
    event = {**_valid(), "service": "svc\udc80"}
    assert not _NATIVE.check(event)
    validate_event(event)  # the full checks accept it, as before


@pytest.mark.parametrize(
    "spec",
    [("bogus",), ("text", 10), ("record", (("a", ("int", 0)),)), "text", ("list", 0, 1, ("x",))],
)
def test_a_malformed_spec_is_refused(spec: Any) -> None:
    if _NATIVE is None:
        pytest.skip("dua_schemas_native is not installed (`make setup` builds it with cargo)")
    with pytest.raises(ValueError, match="invalid check spec"):
        type(_NATIVE)(spec)


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


def test_the_common_event_takes_the_quick_path(quick: QuickCheck) -> None:
    """Otherwise the quick path would be dead code and the processor pays full price."""
    assert quick(_valid())
    assert not quick({**_valid(), "event_id": "{11111111-2222-4333-8444-555555555555}"})
    assert _quick_yes is (_plainly_valid if _NATIVE is None else _quick_yes)
    validate_event({**_valid(), "event_id": "{11111111-2222-4333-8444-555555555555}"})
