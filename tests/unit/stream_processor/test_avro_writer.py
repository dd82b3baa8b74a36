"""Compiled Avro writers write exactly fastavro's bytes, for every record of the contract."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_writer
from hypothesis import given, settings
from hypothesis import strategies as st

from dua_schemas import WireCodec
from dua_stream import Engine, MemoryState
from dua_stream.processor.avro_writer import compile_writer, zigzag

from .conftest import T0, access_event, ad_event


def _fastavro(schema: dict[str, Any], record: Any) -> bytes:
    out = io.BytesIO()
    schemaless_writer(out, parse_schema(schema), record)
    return out.getvalue()


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_zigzag_matches_fastavro_for_every_long(value: int) -> None:
    """Negative, zero, small and 64-bit extremes encode alike."""
    assert zigzag(value) == _fastavro({"type": "long"}, value)


SCHEMA = {
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
    write = compile_writer(SCHEMA)
    assert write is not None
    assert write(record) == _fastavro(SCHEMA, record)


def test_contract_records_are_byte_identical(wire: WireCodec, engine: Engine) -> None:
    """Tagged events and violations of real verdicts, as the processor writes them."""
    state = MemoryState()
    now = T0 + timedelta(seconds=1)
    tagged = compile_writer(wire.catalog.latest("TaggedAccessEvent").schema)
    violation = compile_writer(wire.catalog.latest("Violation").schema)
    assert tagged is not None
    assert violation is not None
    events = [access_event(trace_id="t", attributes={"a": "b"}), ad_event("x" * 64)]
    events.append(access_event(service="carsensor", purpose=None, origin_service="jalan"))
    for event in events:
        verdict = engine.classify(event, state)  # type: ignore[arg-type]
        record = verdict.tagged(now)
        assert tagged(record) == _fastavro(wire.catalog.latest("TaggedAccessEvent").schema, record)
        for v in verdict.violation_records(now):
            assert violation(v) == _fastavro(wire.catalog.latest("Violation").schema, v)


def test_unsupported_schemas_are_left_to_fastavro() -> None:
    """A union of two non-null types is not compiled: the caller keeps fastavro."""
    schema = {"type": "record", "name": "U", "fields": [{"name": "x", "type": ["int", "string"]}]}
    assert compile_writer(schema) is None


def test_unknown_enum_symbol_is_an_error() -> None:
    """A value outside the enum is refused, not written as something else."""
    write = compile_writer(SCHEMA)
    assert write is not None
    record = {
        "text": "",
        "maybe": None,
        "at": T0,
        "flag": True,
        "blob": b"",
        "tags": [],
        "attrs": {},
        "kind": "Z",
        "n": 0,
    }
    with pytest.raises(KeyError):
        write(record)
