"""Encodes DataAccessEvents to the codec's exact bytes, encoding each call site's part once.

An Avro record is its fields' encodings one after another, so an event splits into the
fields a call site fixes (service, actor, elements, purpose, destination, consent, ...) and
the five that change per call (event id, time, subject pseudonym, record count, trace id).
`prepare` encodes the fixed runs once with fastavro; `encode` joins them with the per-call
fields, written with the encodings of `dua_schemas.avro_writer`. The layout is derived from the
schema and checked against `WireCodec.encode` when it is built; if the schema ever holds a
shape it cannot split, `CodecEncoder` is used instead.

This exists because fastavro costs ~20 µs per event here, the whole emit budget.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

from fastavro import parse_schema, schemaless_writer

from dua_schemas import DATA_ACCESS_EVENT, WireCodec, to_millis
from dua_schemas.avro_writer import encode_string, map_in_order, zigzag
from dua_schemas.timestamps import from_millis

# Fields that change with every call, in the order `encode` takes their values.
PER_CALL: Final = ("event_id", "occurred_at", "subject_id", "record_count", "trace_id")
PerCall = tuple[str, int, str | None, int, str | None]  # occurred_at as epoch milliseconds
Encoder = Callable[[Any], bytes]


class EventEncoder(Protocol):
    """Turns a validated template plus per-call values into the Kafka message value."""

    def prepare(self, template: Mapping[str, Any]) -> object: ...

    def encode(self, prepared: Any, values: PerCall) -> bytes: ...


class LayoutEncoder:
    """The fast encoder; built by `event_encoder`, which proves it against the codec."""

    __slots__ = ("_encoders", "_header", "_runs", "_steps")

    def __init__(self, schema: Mapping[str, Any], header: bytes) -> None:
        self._header = header
        # (static run index, per-call index): exactly one of the two is -1.
        steps: list[tuple[int, int]] = []
        runs: list[tuple[Any, tuple[str, ...], frozenset[str]]] = []
        encoders: list[Encoder] = [_unused] * len(PER_CALL)
        run: list[dict[str, Any]] = []

        def close_run() -> None:
            if run:
                sub = {
                    "type": "record",
                    "name": f"DuaSdkStatic{len(runs)}",
                    "namespace": schema.get("namespace"),
                    "fields": list(run),
                }
                steps.append((len(runs), -1))
                maps = frozenset(
                    f["name"]
                    for f in run
                    if isinstance(f["type"], dict) and f["type"].get("type") == "map"
                )
                runs.append((parse_schema(sub), tuple(f["name"] for f in run), maps))
                run.clear()

        for field in schema["fields"]:
            if field["name"] in PER_CALL:
                encoder = encoder_for(field["type"])
                if encoder is None:
                    raise ValueError(f"field {field['name']} has a type the layout cannot split")
                close_run()
                index = PER_CALL.index(field["name"])
                encoders[index] = encoder
                steps.append((-1, index))
            else:
                run.append(field)
        close_run()
        missing = [name for i, name in enumerate(PER_CALL) if encoders[i] is _unused]
        if missing:
            raise ValueError(f"schema lacks the per-call fields {missing}")
        self._steps = tuple(steps)
        self._runs = tuple(runs)
        self._encoders = tuple(encoders)

    def prepare(self, template: Mapping[str, Any]) -> tuple[bytes, ...]:
        chunks = []
        for parsed, names, maps in self._runs:
            out = io.BytesIO()
            values = {
                name: map_in_order(template[name]) if name in maps else template[name]
                for name in names
            }
            schemaless_writer(out, parsed, values)
            chunks.append(out.getvalue())
        return tuple(chunks)

    def encode(self, prepared: tuple[bytes, ...], values: PerCall) -> bytes:
        encoders = self._encoders
        parts = [self._header]
        for static, per_call in self._steps:
            if static >= 0:
                parts.append(prepared[static])
            else:
                parts.append(encoders[per_call](values[per_call]))
        return b"".join(parts)


class CodecEncoder:
    """The plain path: a full record through `WireCodec.encode` for every event."""

    __slots__ = ("_codec",)

    def __init__(self, codec: WireCodec) -> None:
        self._codec = codec

    def prepare(self, template: Mapping[str, Any]) -> dict[str, Any]:
        return dict(template)

    def encode(self, prepared: dict[str, Any], values: PerCall) -> bytes:
        record = {**prepared, **dict(zip(PER_CALL, values, strict=True))}
        record["occurred_at"] = from_millis(values[1])
        return self._codec.encode(DATA_ACCESS_EVENT, record)


def event_encoder(codec: WireCodec, sample: Mapping[str, Any]) -> EventEncoder:
    """The fast encoder when it reproduces `codec.encode(sample)` exactly, else the codec's."""
    expected = codec.encode(DATA_ACCESS_EVENT, dict(sample))  # registers the schema if needed
    schema = codec.catalog.latest(DATA_ACCESS_EVENT).schema
    values = per_call_values(sample)
    try:
        probe = LayoutEncoder(schema, b"")
        body = probe.encode(probe.prepare(sample), values)
    except (ValueError, TypeError, KeyError):
        return CodecEncoder(codec)
    header = expected[: len(expected) - len(body)]
    fast = LayoutEncoder(schema, header)
    if not expected.endswith(body) or fast.encode(fast.prepare(sample), values) != expected:
        return CodecEncoder(codec)
    return fast


def per_call_values(record: Mapping[str, Any]) -> PerCall:
    """The per-call fields of a full record, in `PER_CALL` order."""
    return (
        record["event_id"],
        to_millis(record["occurred_at"]),
        record["subject_id"],
        record["record_count"],
        record["trace_id"],
    )


def encoder_for(avro_type: Any) -> Encoder | None:
    """The encoder of a per-call field's type, or None when it is not one of the shapes below.

    A long or int (a timestamp-millis as epoch milliseconds), a string, or a union of null and
    string in either order: each written by `dua_schemas.avro_writer`'s encodings.
    """
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if avro_type.get("type") == "long" and logical == "timestamp-millis":
            return timestamp()  # the caller passes epoch milliseconds
        if avro_type.get("type") == "long" and logical is None:
            return zigzag
        if avro_type.get("type") in ("int", "string") and logical is None:
            return encoder_for(avro_type["type"])
        return None
    if avro_type in ("int", "long"):
        return zigzag
    if avro_type == "string":
        return encode_string
    if isinstance(avro_type, list) and sorted(map(str, avro_type)) == ["null", "string"]:
        return optional_string(avro_type.index("null"))
    return None


def timestamp() -> Encoder:
    """Avro `timestamp-millis` from epoch milliseconds, remembering the last one.

    Events emitted within the same millisecond share the encoding (a 6-byte varint loop).
    """
    last: list[tuple[int, bytes]] = [(-1, b"")]

    def encode(millis: int) -> bytes:
        known_millis, known = last[0]  # one tuple: threads replace it whole, never half
        if known_millis == millis:
            return known
        data = zigzag(millis)
        last[0] = (millis, data)
        return data

    return encode


def optional_string(null_index: int) -> Encoder:
    """Avro union of null and string, given where null sits in the union."""
    null = zigzag(null_index)
    text = zigzag(1 - null_index)

    def encode(value: str | None) -> bytes:
        return null if value is None else text + encode_string(value)

    return encode


def _unused(value: Any) -> bytes:  # pragma: no cover - replaced before use
    raise AssertionError(value)
