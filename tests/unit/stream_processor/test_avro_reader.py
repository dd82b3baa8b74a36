"""Compiled Avro readers return exactly fastavro's records, or fail and leave it to fastavro."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from hypothesis import given, settings
from hypothesis import strategies as st

from dua_policy import Engine, MemoryState
from dua_schemas import (
    CONSENT_CHANGE,
    DATA_ACCESS_EVENT,
    EPOCH,
    RECORD_NAMES,
    REJECTED_EVENT,
    TAGGED_ACCESS_EVENT,
    VIOLATION,
    Decoded,
    UndecodablePayload,
    WireCodec,
    to_millis,
)
from dua_schemas import avro_reader as avro_reader_module
from dua_schemas import wire as wire_module
from dua_schemas.avro_reader import compile_reader
from dua_schemas.avro_writer import zigzag
from dua_stream.processor import RecordCodec, Rejection, SourcePosition, rejected_record

from .conftest import T0, access_event, ad_event, opt_out, use_backend

Reader = Callable[[bytes, int], tuple[dict[str, Any], int]]

MS_MIN = to_millis(datetime(1, 1, 1, tzinfo=UTC))
MS_MAX = to_millis(datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC))
LONGS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
SYMBOLS = [f"S{i}" for i in range(70)]  # past 63: indexes written in two bytes too

PROBE: dict[str, Any] = {
    "type": "record",
    "name": "Probe",
    "namespace": "dua.test",
    "fields": [
        {"name": "text", "type": "string"},
        {"name": "maybe", "type": ["null", "string"]},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "when", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
        {"name": "flag", "type": "boolean"},
        {"name": "blob", "type": "bytes"},
        {"name": "maybe_blob", "type": ["null", "bytes"]},
        {"name": "n", "type": "int"},
        {"name": "big", "type": "long"},
        {"name": "nothing", "type": "null"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "string"}},
        {"name": "counts", "type": {"type": "map", "values": ["null", "long"]}},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": SYMBOLS}},
        {
            "name": "inner",
            "type": {
                "type": "record",
                "name": "Inner",
                "fields": [
                    {"name": "kind", "type": "Kind"},  # a reference, in the namespace
                    {"name": "label", "type": ["null", "string"]},
                ],
            },
        },
        {"name": "inners", "type": {"type": "array", "items": "dua.test.Inner"}},
        {"name": "maybe_inner", "type": ["null", "Inner"]},
    ],
}


def _fastavro_write(schema: dict[str, Any], record: Any) -> bytes:
    out = io.BytesIO()
    schemaless_writer(out, parse_schema(schema), record)
    return out.getvalue()


def _fastavro_read(schema: dict[str, Any], body: bytes, pos: int) -> tuple[Any, int]:
    buf = io.BytesIO(body)
    buf.seek(pos)
    record = schemaless_reader(buf, parse_schema(schema), None)
    return record, buf.tell()


# which reader `_compiled` builds: the native one (schemas/native) or the Python closures
BACKEND = {"native": True}


@pytest.fixture(scope="module", params=["native", "python"], autouse=True)
def reader_backend(request: pytest.FixtureRequest) -> str:
    """Every test of this module runs against both compiled readers."""
    BACKEND["native"] = use_backend(request.param)
    return str(request.param)


def _compiled(schema: dict[str, Any]) -> Reader:
    read = compile_reader(schema, native=BACKEND["native"])
    assert read is not None
    return read


def _assert_same(got: Any, want: Any) -> None:
    """Equal, and of the same types all the way down (True is not 1, keys in the same order)."""
    assert type(got) is type(want), (got, want)
    if isinstance(want, dict):
        assert list(got) == list(want)
        for key, value in want.items():
            _assert_same(got[key], value)
    elif isinstance(want, list):
        assert len(got) == len(want)
        for item, expected in zip(got, want, strict=True):
            _assert_same(item, expected)
    else:
        assert got == want
        if isinstance(want, datetime):
            assert got.tzinfo is want.tzinfo


def _assert_reads_like_fastavro(
    read: Reader, schema: dict[str, Any], body: bytes, pos: int
) -> None:
    """Whenever the compiled reader succeeds, fastavro succeeds with the same record and end."""
    try:
        got = read(body, pos)
    except Exception:  # any failure is allowed: the caller asks fastavro then
        return
    want = _fastavro_read(schema, body, pos)  # raises if fastavro refuses what was read
    _assert_same(got[0], want[0])
    assert got[1] == want[1]


def _text() -> st.SearchStrategy[str]:
    # short texts, and long ones whose lengths take two or three varint bytes
    return st.text(max_size=70) | st.builds(
        lambda part, times: part * times, st.text(min_size=1, max_size=4), st.integers(0, 3000)
    )


def _inner() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"kind": st.sampled_from(SYMBOLS), "label": st.none() | st.text(max_size=10)}
    )


PROBE_RECORDS = st.fixed_dictionaries(
    {
        "text": _text(),
        "maybe": st.none() | _text(),
        # every millisecond datetime can hold, before 1970 included
        "at": st.integers(MS_MIN, MS_MAX) | st.integers(-(10**13), 10**13),
        "when": st.none() | st.integers(MS_MIN, MS_MAX),
        "flag": st.booleans(),
        "blob": st.binary(max_size=300),
        "maybe_blob": st.none() | st.binary(max_size=10),
        "n": st.integers(min_value=-(2**31), max_value=2**31 - 1),
        "big": LONGS,
        "nothing": st.none(),
        "tags": st.lists(_text(), max_size=5),
        "attrs": st.dictionaries(st.text(max_size=10), _text(), max_size=4),
        "counts": st.dictionaries(st.text(max_size=5), st.none() | LONGS, max_size=70),
        "kind": st.sampled_from(SYMBOLS),
        "inner": _inner(),
        "inners": st.lists(_inner(), max_size=3),
        "maybe_inner": st.none() | _inner(),
    }
)


@settings(max_examples=200, deadline=None)
@given(record=PROBE_RECORDS, before=st.binary(max_size=12), after=st.binary(max_size=4))
def test_compiled_reader_matches_fastavro(
    record: dict[str, Any], before: bytes, after: bytes
) -> None:
    """Every supported type: negative and 64-bit longs, times before 1970, Unicode, big maps."""
    read = _compiled(PROBE)
    body = before + _fastavro_write(PROBE, record) + after
    got, end = read(body, len(before))
    want, want_end = _fastavro_read(PROBE, body, len(before))
    _assert_same(got, want)
    assert end == want_end == len(body) - len(after)


TIMESTAMP = {
    "type": "record",
    "name": "At",
    "fields": [{"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}],
}


@settings(max_examples=300, deadline=None)
@given(
    ms=LONGS | st.integers(MS_MIN - 2000, MS_MIN + 2000) | st.integers(MS_MAX - 2000, MS_MAX + 2000)
)
def test_timestamps_fail_exactly_where_fastavro_fails(ms: int) -> None:
    """Past datetime's range both fail; at its very edges both read the same datetime."""
    read = _compiled(TIMESTAMP)
    body = zigzag(ms)
    try:
        want = _fastavro_read(TIMESTAMP, body, 0)
    except (OverflowError, ValueError):
        with pytest.raises((OverflowError, ValueError)):
            read(body, 0)
        return
    got = read(body, 0)
    _assert_same(got[0], want[0])
    assert got[1] == want[1]


def _contract_records(wire: WireCodec, engine: Engine) -> dict[str, list[dict[str, Any]]]:
    now = T0 + timedelta(seconds=1)
    events = [
        access_event(),
        access_event(trace_id="t", attributes={"a": "b", "ç": "ü" * 40}, subject_id="s" * 64),
        ad_event("x" * 64),
        access_event(service="carsensor", purpose=None, origin_service="jalan", elements=[]),
    ]
    state = MemoryState()
    engine.apply_consent(opt_out("x" * 64), state)  # type: ignore[arg-type]
    verdicts = [engine.classify(event, state) for event in events]  # type: ignore[arg-type]
    rejection = Rejection("decode", "corrupt_body", "DataAccessEvent body: IndexError()")
    source = SourcePosition("raw", 3, 2**40)
    return {
        DATA_ACCESS_EVENT: events,
        CONSENT_CHANGE: [opt_out("x" * 64), {**opt_out("y"), "occurred_at": EPOCH}],
        TAGGED_ACCESS_EVENT: [verdict.tagged(now) for verdict in verdicts],
        VIOLATION: [v for verdict in verdicts for v in verdict.violation_records(now)],
        REJECTED_EVENT: [
            rejected_record(rejection, source, b"\xc3\x01" * 600, None, now, prefix_bytes=1024),
            rejected_record(rejection, source, None, b"key", now, prefix_bytes=16),
        ],
    }


def test_every_contract_record_compiles_and_reads_like_fastavro(
    wire: WireCodec, engine: Engine
) -> None:
    """All five released schemas compile; real records read back identically, cut ones fail."""
    records = _contract_records(wire, engine)
    assert set(records) == set(RECORD_NAMES)
    assert records[VIOLATION]  # the sample verdicts do break rules
    for name in RECORD_NAMES:
        schema = wire.catalog.latest(name).schema
        read = _compiled(schema)
        for record in records[name]:
            body = wire.encode(name, record)
            got, end = read(body, 10)
            want, want_end = _fastavro_read(schema, body, 10)
            _assert_same(got, want)
            assert end == want_end == len(body)
            for size in range(10, len(body)):  # cut anywhere, even inside the last bytes value
                with pytest.raises(Exception):  # noqa: B017, PT011 - which one does not matter
                    read(body[:size], 10)


# byte values that mean something to a reader: union branches, small varints, continuations
TELLING_BYTES = (0x00, 0x01, 0x02, 0x03, 0x04, 0x7E, 0x7F, 0x80, 0x81, 0xC3, 0xFF)


def _mutations() -> st.SearchStrategy[list[tuple[str, int, int]]]:
    kinds = st.sampled_from(["flip", "set", "insert", "delete", "truncate"])
    byte = st.sampled_from(TELLING_BYTES) | st.integers(0, 255)
    return st.lists(st.tuples(kinds, st.integers(0, 400), byte), max_size=4)


def _mutate(body: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    data = bytearray(body)
    for kind, where, byte in mutations:
        at = where % (len(data) + 1)
        if kind == "insert":
            data.insert(at, byte)
        elif kind == "truncate":
            del data[at:]
        elif at < len(data):
            if kind == "flip":
                data[at] ^= byte or 1
            elif kind == "set":
                data[at] = byte
            else:
                del data[at]
    return bytes(data)


ACCESS_SAMPLES = [
    access_event(),
    access_event(
        trace_id="t-1",
        attributes={"k": "v", "ü": "x" * 70},
        subject_id="s" * 64,
        elements=["user.name"] * 3,
        origin_service="jalan",
        record_count=-(2**40),
    ),
]


@settings(max_examples=400, deadline=None)
@given(sample=st.sampled_from(ACCESS_SAMPLES), mutations=_mutations())
def test_mutated_bytes_never_read_differently_from_fastavro(
    wire: WireCodec, sample: dict[str, Any], mutations: list[tuple[str, int, int]]
) -> None:
    """Flipped, inserted, deleted or cut bytes: if the compiled reader accepts, so does fastavro."""
    schema = wire.catalog.latest(DATA_ACCESS_EVENT).schema
    body = _mutate(wire.encode(DATA_ACCESS_EVENT, sample), mutations)
    _assert_reads_like_fastavro(_compiled(schema), schema, body, 10)


@settings(max_examples=300, deadline=None)
@given(record=PROBE_RECORDS, mutations=_mutations())
def test_mutated_probe_bytes_never_read_differently_from_fastavro(
    record: dict[str, Any], mutations: list[tuple[str, int, int]]
) -> None:
    """The same, for every supported type: unions of records, maps of unions, bytes, enums."""
    body = _mutate(_fastavro_write(PROBE, record), mutations)
    _assert_reads_like_fastavro(_compiled(PROBE), PROBE, body, 0)


PROBE_SAMPLES = [
    {
        "text": "ü" * 40,
        "maybe": "m",
        "at": -1,
        "when": 1_793_491_200_123,
        "flag": True,
        "blob": b"\x00\xff",
        "maybe_blob": b"b",
        "n": -(2**31),
        "big": 2**63 - 1,
        "nothing": None,
        "tags": ["a", "bc"],
        "attrs": {"k": "v"},
        "counts": {"x": None, "y": -300},
        "kind": "S69",
        "inner": {"kind": "S1", "label": "l"},
        "inners": [{"kind": "S0", "label": None}],
        "maybe_inner": {"kind": "S65", "label": "i"},
    },
    {
        "text": "",
        "maybe": None,
        "at": 0,
        "when": None,
        "flag": False,
        "blob": b"",
        "maybe_blob": None,
        "n": 0,
        "big": -(2**63),
        "nothing": None,
        "tags": [],
        "attrs": {},
        "counts": {},
        "kind": "S0",
        "inner": {"kind": "S63", "label": None},
        "inners": [],
        "maybe_inner": None,
    },
]


def _samples(wire: WireCodec) -> list[tuple[dict[str, Any], bytes, int]]:
    """(schema, body, start) of a real event and of probe records with every supported type."""
    access = wire.catalog.latest(DATA_ACCESS_EVENT).schema
    samples = [(access, wire.encode(DATA_ACCESS_EVENT, ACCESS_SAMPLES[1]), 10)]
    samples += [(PROBE, _fastavro_write(PROBE, record), 0) for record in PROBE_SAMPLES]
    return samples


def test_every_single_byte_change_and_cut_reads_like_fastavro(wire: WireCodec) -> None:
    """Each position set to each telling byte value, and each prefix, of every sample."""
    for schema, body, start in _samples(wire):
        read = _compiled(schema)
        for at in range(start, len(body)):
            for byte in TELLING_BYTES:
                changed = body[:at] + bytes([byte]) + body[at + 1 :]
                _assert_reads_like_fastavro(read, schema, changed, start)
        for size in range(start, len(body)):
            with pytest.raises(Exception):  # noqa: B017, PT011 - which one does not matter
                read(body[:size], start)


@pytest.mark.parametrize(
    "varint",
    [
        b"\xff" * 9 + b"\x7f",  # ten bytes, 70 bits: fastavro keeps the low 64
        b"\xff" * 9 + b"\x02",
        b"\x80" * 10 + b"\x00",  # eleven bytes
        b"\xff" * 10 + b"\x01",
    ],
)
def test_varints_past_64_bits_are_left_to_fastavro(varint: bytes) -> None:
    """fastavro reads these somehow (bits dropped); the compiled reader declines them."""
    schema = {"type": "record", "name": "L", "fields": [{"name": "x", "type": "long"}]}
    read = _compiled(schema)
    with pytest.raises(ValueError, match="varint"):
        read(varint, 0)
    _fastavro_read(schema, varint, 0)  # no error: this is why the compiled reader must decline


@pytest.mark.parametrize("value", [0, -1, 63, -64, 64, 2**31, 2**63 - 1, -(2**63)])
def test_longs_at_varint_boundaries_read_like_fastavro(value: int) -> None:
    """One-byte, two-byte and ten-byte varints, both signs."""
    schema = {"type": "record", "name": "L", "fields": [{"name": "x", "type": "long"}]}
    body = zigzag(value) + b"\x00"
    assert (
        _compiled(schema)(body, 0)
        == _fastavro_read(schema, body, 0)
        == ({"x": value}, len(body) - 1)
    )


BLOCKS = {
    "type": "record",
    "name": "Blocks",
    "fields": [
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "counts", "type": {"type": "map", "values": "long"}},
        {
            "name": "kinds",
            "type": {"type": "array", "items": {"type": "enum", "name": "K", "symbols": SYMBOLS}},
        },
    ],
}


def _string(text: str) -> bytes:
    data = text.encode()
    return zigzag(len(data)) + data


def _block(items: list[bytes], *, sized: bool) -> bytes:
    """One block of encoded items; `sized`: a negative count followed by the byte size."""
    data = b"".join(items)
    if sized:
        return zigzag(-len(items)) + zigzag(len(data)) + data
    return zigzag(len(items)) + data


def test_arrays_and_maps_in_several_blocks_read_like_fastavro() -> None:
    """Positive and negative counts, multi-byte counts and sizes, a repeated key, then the end."""
    tags = [f"t{i}" for i in range(100)]
    counts = {f"k{i}": (-1) ** i * 4**i for i in range(30)}
    kinds = [SYMBOLS[i % 70] for i in range(140)]
    pairs = [_string(key) + zigzag(value) for key, value in counts.items()]
    body = (
        _block([_string(t) for t in tags[:2]], sized=False)
        + _block([_string(t) for t in tags[2:3]], sized=True)
        + _block([_string(t) for t in tags[3:80]], sized=True)  # 77 items, 2-byte count
        + _block([_string(t) for t in tags[80:]], sized=False)
        + b"\x00"
        + _block(pairs[:1], sized=True)
        + _block(pairs[1:25], sized=False)
        + _block(pairs[25:], sized=True)
        + _block([_string("k0") + zigzag(-1)], sized=False)  # again: the last one counts
        + b"\x00"
        + _block([zigzag(SYMBOLS.index(k)) for k in kinds[:70]], sized=True)
        + _block([zigzag(SYMBOLS.index(k)) for k in kinds[70:]], sized=False)
        + b"\x00"
    )
    got, end = _compiled(BLOCKS)(body, 0)
    want, want_end = _fastavro_read(BLOCKS, body, 0)
    _assert_same(got, want)
    assert got == {"tags": tags, "counts": {**counts, "k0": -1}, "kinds": kinds}
    assert end == want_end == len(body)


def test_more_items_than_bytes_are_left_to_fastavro() -> None:
    """1,000 nulls in three bytes: fastavro builds the list; the compiled reader declines."""
    schema = {
        "type": "record",
        "name": "N",
        "fields": [{"name": "x", "type": {"type": "array", "items": "null"}}],
    }
    body = zigzag(1000) + b"\x00"
    assert _fastavro_read(schema, body, 0) == ({"x": [None] * 1000}, len(body))
    with pytest.raises(ValueError, match="items"):
        _compiled(schema)(body, 0)
    # at the edge: 70 items, 69 bytes left (the array's end, then a bytes field)
    schema["fields"].append({"name": "y", "type": "bytes"})
    edge = zigzag(70) + b"\x00" + zigzag(66) + b"y" * 66
    assert _fastavro_read(schema, edge, 0) == ({"x": [None] * 70, "y": b"y" * 66}, len(edge))
    with pytest.raises(ValueError, match="items"):
        _compiled(schema)(edge, 0)


@pytest.mark.parametrize(
    "field_type",
    [
        ["int", "string"],
        ["string", "null"],
        ["null", "int", "string"],
        "float",
        "double",
        {"type": "fixed", "name": "F", "size": 4},
        {"type": "string", "logicalType": "uuid"},
        {"type": "int", "logicalType": "date"},
        {"type": "int", "logicalType": "timestamp-millis"},
        {"type": "long", "logicalType": "timestamp-micros"},
        "Unknown",
    ],
)
def test_unsupported_schemas_are_left_to_fastavro(field_type: Any) -> None:
    """A type this module does not compile gives None: the caller keeps fastavro."""
    schema = {"type": "record", "name": "U", "fields": [{"name": "x", "type": field_type}]}
    assert compile_reader(schema) is None


def test_only_records_are_compiled() -> None:
    """A top-level type other than a record gives None."""
    assert compile_reader({"type": "map", "values": "string"}) is None


def _decode_outcome(decode: Callable[[bytes], Decoded], payload: bytes) -> tuple[Any, ...]:
    try:
        return ("decoded", decode(payload))
    except UndecodablePayload as exc:
        return ("rejected", exc.reason, exc.detail)


def _payloads(wire: WireCodec) -> list[bytes]:
    valid = [wire.encode(DATA_ACCESS_EVENT, event) for event in ACCESS_SAMPLES]
    valid.append(wire.encode(DATA_ACCESS_EVENT, ad_event("z" * 64)))
    good = valid[1]
    payloads = [*valid, good + b"\x00", good + b"\x00\x01\x02\x03\x04"]
    payloads += [good[:size] for size in range(len(good))]
    for at in range(10, len(good), 3):
        for byte in (0x01, 0x03, 0x7F, 0x80, 0xFF):
            payloads.append(good[:at] + bytes([byte]) + good[at + 1 :])
    return payloads


def test_codecs_decode_and_reject_like_fastavro_alone(codec: RecordCodec, wire: WireCodec) -> None:
    """Valid, cut, trailing and corrupt payloads: the processor's and the shared codec give
    the same record as fastavro alone, or the same rejection reason and words."""
    payloads = _payloads(wire)
    reference = WireCodec(compiled_readers=False)  # fastavro alone, as before compiled readers
    outcomes = {"decoded": 0, "rejected": 0}
    for payload in payloads:
        want = _decode_outcome(lambda p: reference.decode(p, expected=DATA_ACCESS_EVENT), payload)
        for decode in (
            lambda p: codec.decode(p, DATA_ACCESS_EVENT),
            lambda p: wire.decode(p, expected=DATA_ACCESS_EVENT),
        ):
            got = _decode_outcome(decode, payload)
            assert got == want, payload
            if got[0] == "decoded":
                _assert_same(got[1].record, want[1].record)
        outcomes[want[0]] += 1
    assert outcomes["decoded"] > 3  # some corrupt payloads are still valid events
    assert outcomes["rejected"] > len(payloads) // 2


def test_record_codec_reads_valid_events_without_fastavro(
    codec: RecordCodec, wire: WireCodec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled reader is what decodes the common case; fastavro is only the fallback."""

    def refuse(*_: Any) -> Any:
        raise AssertionError("fastavro was called")

    monkeypatch.setattr(wire_module, "schemaless_reader", refuse)
    for event in ACCESS_SAMPLES:
        payload = wire.encode(DATA_ACCESS_EVENT, event)
        assert codec.decode(payload, DATA_ACCESS_EVENT) == wire.decode(payload)


def test_what_only_fastavro_accepts_is_still_accepted(codec: RecordCodec, wire: WireCodec) -> None:
    """A union index of -1 (fastavro takes the last branch) falls back to fastavro, as before."""
    event = access_event(subject_id="abc")
    payload = wire.encode(DATA_ACCESS_EVENT, event)
    marker = b"\x02" + _string("abc")
    assert payload.count(marker) == 1
    odd = payload.replace(marker, b"\x01" + _string("abc"))
    decoded = codec.decode(odd, DATA_ACCESS_EVENT)
    assert decoded == wire.decode(odd, expected=DATA_ACCESS_EVENT)
    assert decoded.record["subject_id"] == "abc"


def test_the_shared_codec_reads_every_record_type_like_fastavro_alone(
    wire: WireCodec, engine: Engine
) -> None:
    """`WireCodec.decode` (the sink's, the CLI's) with compiled readers, every contract record,
    whole, cut and with single bytes changed: same record or same rejection as fastavro."""
    reference = WireCodec(compiled_readers=False)
    wire = WireCodec(native_readers=BACKEND["native"])
    decoded = 0
    for name, records in _contract_records(wire, engine).items():
        for record in records:
            good = wire.encode(name, record)
            payloads = [good, good + b"\x00", *(good[:size] for size in range(len(good)))]
            payloads += [
                good[:at] + bytes([value]) + good[at + 1 :]
                for at in range(10, len(good), 2)
                for value in (0x00, 0x03, 0x80, 0xFF)
            ]
            for payload in payloads:
                got = _decode_outcome(lambda p, n=name: wire.decode(p, expected=n), payload)
                want = _decode_outcome(lambda p, n=name: reference.decode(p, expected=n), payload)
                assert got == want, (name, payload)
                if got[0] == "decoded":
                    _assert_same(got[1].record, want[1].record)
                    decoded += 1
    assert decoded > 100  # many single-byte changes still make valid records


class _StaleNative:
    """A native build older than the code: it does not know the program's node kinds, and
    has no `Writer` or `Splicer` at all."""

    class Reader:
        def __init__(self, program: Any) -> None:
            raise ValueError("unknown node kind 'timestamp-micros'")


def test_a_native_build_that_refuses_a_schema_leaves_it_to_python(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    wire: WireCodec,
    engine: Engine,
) -> None:
    """Decoding, writing and splicing go on in Python, with a warning."""
    monkeypatch.setattr(avro_reader_module, "NATIVE", _StaleNative)
    monkeypatch.setattr(avro_reader_module, "_WARNED", set())
    schema = wire.catalog.latest(DATA_ACCESS_EVENT).schema
    body = wire.encode(DATA_ACCESS_EVENT, ACCESS_SAMPLES[1])
    read = compile_reader(schema)
    assert read is not None
    assert read(body, 10) == _fastavro_read(schema, body, 10)
    assert "Rebuild it with `make setup`" in caplog.text
    codec = RecordCodec(WireCodec())
    assert codec.splicer is not None
    assert not codec.splicer.native  # the Python skippers and writers
    assert caplog.text.count("the installed build has no Writer") == 1  # one per kind
    assert "has no Splicer" in caplog.text
    for name, records in _contract_records(wire, engine).items():
        for record in records:
            assert codec.encode(name, record) == wire.encode(name, record)
    assert codec.decode(body, DATA_ACCESS_EVENT).record == wire.decode(body).record
