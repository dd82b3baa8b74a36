"""Compiled Avro writers write exactly fastavro's bytes, for every type the contracts use.

Every test runs against both compiled writers: the native one (schemas/native) and the
Python closures.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_writer
from hypothesis import given, settings
from hypothesis import strategies as st

from dua_schemas.avro_writer import compile_writer, encode_string, zigzag

from .conftest import use_backend

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _fastavro(schema: dict[str, Any], record: Any) -> bytes:
    out = io.BytesIO()
    schemaless_writer(out, parse_schema(schema), record)
    return out.getvalue()


# which writer `_compiled` builds: the native one or the Python closures
BACKEND = {"native": True}


@pytest.fixture(scope="module", params=["native", "python"], autouse=True)
def writer_backend(request: pytest.FixtureRequest) -> str:
    BACKEND["native"] = use_backend(request.param)
    return str(request.param)


def _compiled(schema: dict[str, Any]) -> Callable[[Any], bytes]:
    write = compile_writer(schema, native=BACKEND["native"])
    assert write is not None
    # the native writer is a method of `dua_schemas_native.Writer`, the Python one a closure
    assert (type(write).__module__ != __name__ and "Writer" in repr(write)) == BACKEND["native"]
    return write


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_zigzag_matches_fastavro_for_every_long(value: int) -> None:
    """Negative, zero, small and 64-bit extremes encode alike."""
    assert zigzag(value) == _fastavro({"type": "long"}, value)


@given(st.text(max_size=300))
def test_encode_string_matches_fastavro(text: str) -> None:
    """Strings of any length and any Unicode (lengths past one varint byte too) encode alike."""
    assert encode_string(text) == _fastavro({"type": "string"}, text)


SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Probe",
    "fields": [
        {"name": "text", "type": "string"},
        {"name": "maybe", "type": ["null", "string"]},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "flag", "type": "boolean"},
        {"name": "blob", "type": "bytes"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "string"}},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
        {"name": "n", "type": "int"},
    ],
}


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(),
    maybe=st.none() | st.text(max_size=80),
    # hypothesis takes naive bounds; `timezones` makes every value aware
    at=st.datetimes(
        min_value=datetime(1900, 1, 1),  # noqa: DTZ001
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    flag=st.booleans(),
    blob=st.binary(max_size=300),
    tags=st.lists(st.text(max_size=10), max_size=5),
    attrs=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=4),
    kind=st.sampled_from(["A", "B", "C"]),
    n=st.integers(min_value=-(2**31), max_value=2**31 - 1),
)
def test_compiled_writer_matches_fastavro(**record: Any) -> None:
    """Every supported type, including times before 1970 and non-ASCII text."""
    assert _compiled(SCHEMA)(record) == _fastavro(SCHEMA, record)


def test_unsupported_schemas_are_left_to_fastavro() -> None:
    """A union of two non-null types is not compiled: the caller keeps fastavro."""
    schema = {"type": "record", "name": "U", "fields": [{"name": "x", "type": ["int", "string"]}]}
    assert compile_writer(schema, native=BACKEND["native"]) is None


def _record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "text": "",
        "maybe": None,
        "at": T0,
        "flag": True,
        "blob": b"",
        "tags": [],
        "attrs": {},
        "kind": "A",
        "n": 0,
    }
    return {**record, **changes}


def test_unknown_enum_symbol_is_an_error() -> None:
    """A value outside the enum is refused, not written as something else."""
    with pytest.raises((KeyError, ValueError)):
        _compiled(SCHEMA)(_record(kind="Z"))


@settings(max_examples=100, deadline=None)
@given(
    at=st.datetimes(
        min_value=datetime(1, 1, 2),  # noqa: DTZ001
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.builds(
            timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
        ),
    )
)
def test_times_in_any_fixed_offset_match_fastavro(at: datetime) -> None:
    """A datetime is written as its UTC instant, whatever its zone, over datetime's range."""
    assert _compiled(SCHEMA)(_record(at=at)) == _fastavro(SCHEMA, _record(at=at))


class _Odd(str):
    """A str subclass, as StrEnum members are."""


# Values a compiled writer may refuse (the caller then asks fastavro), but must never write
# differently from fastavro.
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.builds(_Odd, st.sampled_from(["A", "B", "x"])),
    st.binary(max_size=5),
    st.builds(bytearray, st.binary(max_size=5)),
    st.lists(st.text(max_size=3), max_size=3),
    st.tuples(st.text(max_size=3)),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
    st.datetimes(timezones=st.none() | st.just(UTC)),
    st.just("\ud800"),  # a lone surrogate: not encodable
)


@settings(max_examples=400, deadline=None)
@given(field=st.sampled_from([f["name"] for f in SCHEMA["fields"]]), value=ODD_VALUES)
def test_odd_values_are_written_as_fastavro_writes_them_or_refused(field: str, value: Any) -> None:
    """Wrong types, ints past 64 bits, naive times, subclasses: fastavro's bytes or an error
    the codec catches (it then asks fastavro), never other bytes."""
    record = _record(**{field: value})
    try:
        got = _compiled(SCHEMA)(record)
    except (KeyError, TypeError, ValueError, AttributeError):
        return
    try:
        want = _fastavro(SCHEMA, record)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        pytest.fail(f"{field}={value!r} written as {got!r}, where fastavro refuses it: {exc!r}")
    assert got == want


def test_a_missing_field_is_refused_and_left_to_fastavro() -> None:
    """fastavro may fill in a default; a compiled writer does not guess."""
    record = _record()
    del record["flag"]
    with pytest.raises((KeyError, ValueError)):
        _compiled(SCHEMA)(record)


def test_a_list_nested_in_itself_is_refused() -> None:
    """A cyclic value stops at the depth limit (or Python's recursion limit), not a crash."""
    schema = {
        "type": "record",
        "name": "Tree",
        "fields": [{"name": "kids", "type": {"type": "array", "items": "Tree"}}],
    }
    tree: dict[str, Any] = {"kids": []}
    tree["kids"].append(tree)
    with pytest.raises((RecursionError, ValueError)):
        _compiled(schema)(tree)
    assert _compiled(schema)({"kids": [{"kids": []}, {"kids": ()}]}) == b"\x04\x00\x00\x00"
