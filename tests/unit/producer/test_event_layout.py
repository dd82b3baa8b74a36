"""The fast encoder writes exactly the codec's bytes, and steps aside when it cannot."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_writer
from hypothesis import given, settings
from hypothesis import strategies as st

from dua_producer.event_layout import (
    CodecEncoder,
    LayoutEncoder,
    encoder_for,
    event_encoder,
    optional_string,
    per_call_values,
    timestamp,
)
from dua_schemas import (
    CONSENT_FLAGS,
    DESTINATION_KINDS,
    OPERATIONS,
    PROCESSING_STATES,
    WireCodec,
    default_catalog,
    to_millis,
)

texts = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != "")
optional_texts = st.one_of(st.none(), texts)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """Valid DataAccessEvent records across every field's range."""
    return {
        "event_id": str(draw(st.uuids(version=4))),
        "occurred_at": draw(
            st.datetimes(
                min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
                max_value=datetime(2100, 1, 1),  # noqa: DTZ001
                timezones=st.just(UTC),
            )
        ),
        "service": draw(texts),
        "actor": {"kind": draw(st.sampled_from(["SERVICE", "EMPLOYEE"])), "id": draw(texts)},
        "subject_id": draw(optional_texts),
        "elements": draw(st.lists(texts, min_size=1, max_size=5)),
        "purpose": draw(optional_texts),
        "operation": draw(st.sampled_from(OPERATIONS)),
        "processing": draw(st.sampled_from(PROCESSING_STATES)),
        "destination": {
            "kind": draw(st.sampled_from(DESTINATION_KINDS)),
            "name": draw(optional_texts),
        },
        "origin_service": draw(optional_texts),
        "consent": {flag: draw(st.booleans()) for flag in CONSENT_FLAGS},
        "record_count": draw(st.integers(min_value=0, max_value=2**31 - 1)),
        "trace_id": draw(optional_texts),
        "attributes": draw(st.dictionaries(texts, st.text(max_size=20), max_size=4)),
    }


@settings(max_examples=300)
@given(record=events())
def test_layout_bytes_equal_codec_bytes(record: dict[str, Any]) -> None:
    """For any valid event, the fast path's bytes are WireCodec.encode's bytes."""
    codec = WireCodec()
    encoder = event_encoder(codec, record)
    assert isinstance(encoder, LayoutEncoder)
    assert encoder.encode(encoder.prepare(record), per_call_values(record)) == codec.encode(
        "DataAccessEvent", record
    )


@given(record=events(), other=events())
def test_one_prepared_shape_serves_any_per_call_values(
    record: dict[str, Any], other: dict[str, Any]
) -> None:
    """A shape prepared once encodes correctly with another call's id, time, subject, count."""
    codec = WireCodec()
    encoder = event_encoder(codec, record)
    per_call = {k: other[k] for k in ("event_id", "occurred_at", "subject_id", "record_count")}
    mixed = record | per_call | {"trace_id": other["trace_id"]}
    assert encoder.encode(encoder.prepare(record), per_call_values(mixed)) == codec.encode(
        "DataAccessEvent", mixed
    )


@settings(max_examples=20)
@given(record=events())
def test_registry_framing_is_kept(record: dict[str, Any]) -> None:
    """With a schema registry the header is the Confluent one, the body the same."""

    class Registry:
        def register(self, subject: str, schema: dict[str, Any]) -> int:
            return 77

        def lookup(self, schema_id: int) -> dict[str, Any]:
            raise AssertionError(schema_id)

    codec = WireCodec(registry=Registry())
    encoder = event_encoder(codec, record)
    value = encoder.encode(encoder.prepare(record), per_call_values(record))
    assert value[:5] == b"\x00\x00\x00\x00\x4d"
    assert value == codec.encode("DataAccessEvent", record)


def test_a_schema_it_cannot_split_falls_back_to_the_codec() -> None:
    """If a per-call field had another type, the client would still encode, the slow way."""
    catalog = default_catalog()
    schema = dict(catalog.latest("DataAccessEvent").schema)
    schema["fields"] = [
        {**f, "type": "double"} if f["name"] == "record_count" else f for f in schema["fields"]
    ]
    with pytest.raises(ValueError, match="record_count"):
        LayoutEncoder(schema, b"")
    assert isinstance(CodecEncoder(WireCodec()).prepare({"a": 1}), dict)


def _fastavro(schema: Any, value: Any) -> bytes:
    out = io.BytesIO()
    schemaless_writer(
        out,
        parse_schema({"type": "record", "name": "R", "fields": [{"name": "f", "type": schema}]}),
        {"f": value},
    )
    return out.getvalue()


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_varint_matches_fastavro(n: int) -> None:
    """The encoder of a long or int field agrees with fastavro over the whole long range."""
    for avro_type in ("long", "int", {"type": "long"}):
        encode = encoder_for(avro_type)
        assert encode is not None
        assert encode(n) == _fastavro("long", n)


@given(st.text(max_size=300))
def test_strings_match_fastavro(text: str) -> None:
    """Strings (any Unicode) agree with fastavro, in a nullable union in either order."""
    string = encoder_for("string")
    assert string is not None
    assert string(text) == _fastavro("string", text)
    assert optional_string(0)(text) == _fastavro(["null", "string"], text)
    assert optional_string(1)(text) == _fastavro(["string", "null"], text)
    assert optional_string(0)(None) == _fastavro(["null", "string"], None)


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_timestamps_round_like_fastavro(moment: datetime) -> None:
    """timestamp-millis, before and after 1970, truncates microseconds as fastavro does."""
    schema = {"type": "long", "logicalType": "timestamp-millis"}
    encode = timestamp()
    assert encode(to_millis(moment)) == _fastavro(schema, moment)
    assert encode(to_millis(moment)) == _fastavro(schema, moment)  # the remembered one
    later = moment + timedelta(milliseconds=1)
    assert encode(to_millis(later)) == _fastavro(schema, later)
