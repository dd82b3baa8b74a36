"""Native blocks hold the Python mapping's rows, byte for byte; what they refuse, Python maps."""

from __future__ import annotations

import random
import struct
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dua_schemas import TAGGED_ACCESS_EVENT, VIOLATION, WireCodec
from dua_schemas.avro_reader import NATIVE, compile_program
from dua_schemas.avro_writer import varint
from dua_sink import RecordRouter, SinkTopics
from dua_sink.native_block import (
    ACCESS_EVENT_PLAN,
    PLANS,
    NativeBlocks,
    PlanMismatch,
    compile_columns,
)
from dua_sink.routing import Pending
from dua_sink.row_mapping import Source
from dua_sink.tables import COLUMNS, REJECTED_EVENTS
from dua_sink.testing import tagged_event, violation_record, violation_summary

TOPICS = SinkTopics(tagged="t.tagged", violations="t.violations", dlq="t.dlq")
WHEN = datetime(2026, 1, 5, 10, tzinfo=UTC)
WHEN_MS = int(WHEN.timestamp() * 1000)
INT32_COLUMNS = {"record_count", "source_partition"}
CODEC = WireCodec()

needs_native = pytest.mark.skipif(NATIVE is None, reason="the native build is not installed")


# The Native type of each plan kind, as ClickHouse names it (the reference for the header).
KIND_TYPES = {
    "string": "String",
    "string_or_empty": "String",
    "bool": "Bool",
    "int32": "Int32",
    "int64": "Int64",
    "datetime64": "DateTime64(3, 'UTC')",
    "map": "Map(String, String)",
    "partition": "Int32",
    "offset": "Int64",
}


def _type(kind: str) -> str:
    return f"Array({KIND_TYPES[kind[5:]]})" if kind.startswith("each:") else KIND_TYPES[kind]


def _value(column: str, value: Any) -> bytes:
    """One value of the Python mapping in ClickHouse's binary encoding."""
    if isinstance(value, bool):
        return b"\x01" if value else b"\x00"
    if isinstance(value, int):
        return struct.pack("<i" if column in INT32_COLUMNS else "<q", value)
    if isinstance(value, str):
        data = value.encode()
        return varint(len(data)) + data
    if isinstance(value, datetime):
        return struct.pack(
            "<q", (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
        )
    raise TypeError(f"{column}: {value!r}")


def _column(column: str, values: list[Any]) -> bytes:
    """A Native column: Arrays and Maps as their cumulative sizes, then keys, then values."""
    if not values or not isinstance(values[0], list | dict):
        return b"".join(_value(column, value) for value in values)
    sizes, total = b"", 0
    for value in values:
        total += len(value)
        sizes += struct.pack("<Q", total)
    if isinstance(values[0], dict):
        keys = b"".join(_value(column, k) for value in values for k in value)
        items = b"".join(_value(column, v) for value in values for v in value.values())
        return sizes + keys + items
    return sizes + b"".join(_value(column, item) for value in values for item in value)


def _reference(record: str, rows: list[tuple[Any, ...]]) -> bytes:
    """The Native block of the Python rows of `record`'s table (the reference)."""
    table, plan = PLANS[record]
    out = varint(len(plan)) + varint(len(rows))
    for index, (column, entry) in enumerate(zip(COLUMNS[table], plan, strict=True)):
        name, kind = column.encode(), _type(entry[1]).encode()
        out += varint(len(name)) + name + varint(len(kind)) + kind
        out += _column(column, [row[index] for row in rows])
    return out


def _events(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    events = []
    for _ in range(n):
        elements = [
            {
                "code": rng.choice(
                    ["user.name", "user.email", "user.device.ad_id", "ユーザー.名前"]
                ),
                "category": rng.choice(["personal", "informative", "unknown"]),
                "sensitivity": rng.choice([None, "normal", "high"]),
            }
            for _ in range(rng.randrange(1, 5))
        ]
        events.append(
            tagged_event(
                event_id=str(uuid.UUID(int=rng.getrandbits(128))),
                occurred_at=datetime(2026, 1, 5, tzinfo=UTC)
                + timedelta(milliseconds=rng.randrange(10**10)),
                subject_id=rng.choice([None, "", "0" * 64]),
                purpose=rng.choice([None, "service.billing"]),
                purpose_category=rng.choice([None, "service"]),
                purpose_known=rng.random() < 0.5,
                elements=elements,
                trace_id=rng.choice([None, "trace-" + "x" * rng.randrange(200)]),
                attributes={f"k{j}": "v" * j for j in range(rng.randrange(4))},
                record_count=rng.choice([0, 1, 2**31 - 1, -(2**31)]),
                violations=[
                    violation_summary(rng.choice(["a_rule", "b_rule"]), rng.choice(["low", "high"]))
                    for _ in range(rng.randrange(3))
                ],
            )
        )
    return events


def _python_rows(
    topic: str, payloads: list[bytes], partition: int, offsets: list[int]
) -> list[Any]:
    router = RecordRouter(TOPICS, CODEC, native=False)
    return [
        router.route(Source(topic, partition, o, WHEN), p, None)
        for p, o in zip(payloads, offsets, strict=True)
    ]


@needs_native
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_native_access_event_rows_are_the_python_rows(seed: int) -> None:
    """Generated tagged events: the native block is the Python rows' Native block."""
    payloads = [CODEC.encode(TAGGED_ACCESS_EVENT, e) for e in _events(200, seed)]
    offsets = list(range(1000, 1000 + len(payloads)))
    native = NativeBlocks.for_records(CODEC)[TAGGED_ACCESS_EVENT]
    data, rows, refused = native.block(list(payloads), 3, offsets)
    assert (rows, refused) == (200, [])
    expected = _python_rows(TOPICS.tagged, payloads, 3, offsets)
    assert data == _reference(TAGGED_ACCESS_EVENT, [r.row for r in expected])


@needs_native
def test_native_violation_rows_are_the_python_rows() -> None:
    """Violations (with and without the optional fields): the same bytes both ways."""
    event = tagged_event()
    records = [
        violation_record(event, "a_rule", "high", trace_id="t-1"),
        violation_record(
            event, "b_rule", "low", subject_id=None, purpose=None, purpose_category=None
        ),
        violation_record(event, "c_rule", "medium", elements=[]),
        violation_record(event, "d_rule", "critical", detected_late_ms=86_400_000),
    ]
    payloads = [CODEC.encode(VIOLATION, r) for r in records]
    native = NativeBlocks.for_records(CODEC)[VIOLATION]
    offsets = list(range(5, 5 + len(payloads)))
    data, rows, refused = native.block(list(payloads), 0, offsets)
    assert (rows, refused) == (4, [])
    expected = _python_rows(TOPICS.violations, payloads, 0, offsets)
    assert data == _reference(VIOLATION, [r.row for r in expected])


@needs_native
def test_what_the_native_rows_refuse_the_python_path_rejects() -> None:
    """Bad bytes, another framing, a cut body and an out-of-range time are refused natively,
    and the router makes rejected rows of them (with their reasons) beside the good rows."""
    good = CODEC.encode(TAGGED_ACCESS_EVENT, tagged_event())
    late = CODEC.encode(
        TAGGED_ACCESS_EVENT, tagged_event(occurred_at=datetime(2300, 1, 1, tzinfo=UTC))
    )
    payloads: list[bytes | None] = [
        good,
        b"\x00garbage",
        good[:-3],
        late,
        None,
        good + b"\x00",
        good,
    ]
    router = RecordRouter(TOPICS, CODEC)
    pending = [(i, Pending(p, None, WHEN_MS)) for i, p in enumerate(payloads)]
    block, routed = router.route_pending(TOPICS.tagged, 0, pending)
    assert block is not None
    assert block.rows == 2
    # A row refused half-written (the time is read after other columns) leaves no trace.
    good_rows = _python_rows(TOPICS.tagged, [good, good], 0, [0, 6])
    assert block.data == _reference(TAGGED_ACCESS_EVENT, [r.row for r in good_rows])
    assert [r.table for r in routed] == [REJECTED_EVENTS] * 5
    assert {r.row[0] for r in routed} == {WHEN}  # rejected_at: the message's Kafka time
    assert {r.rejected for r in routed} >= {
        "timestamp_out_of_range",
        "empty_payload",
        "trailing_bytes",
    }


@needs_native
def test_a_refused_message_the_python_path_maps_sends_the_whole_segment_through_python() -> None:
    """One insert per table and segment: if Python maps a message the native code refused
    (here: an attributes map with a repeated key), every message of the segment goes via Python."""
    router = RecordRouter(TOPICS, CODEC)
    good = CODEC.encode(TAGGED_ACCESS_EVENT, tagged_event(attributes={"a": "1"}))
    repeated = good.replace(b"\x02\x02a\x021\x00", b"\x04\x02a\x021\x02a\x022\x00")
    assert repeated != good
    pending = [(0, Pending(good, None, WHEN_MS)), (1, Pending(repeated, None, WHEN_MS))]
    block, routed = router.route_pending(TOPICS.tagged, 0, pending)
    assert block is None
    assert [r.table for r in routed] == ["access_events", "access_events"]
    assert routed[1].row[COLUMNS["access_events"].index("attributes")] == {"a": "2"}


def test_a_plan_must_name_the_tables_columns_in_order() -> None:
    """A plan that misses a column, or names a field the schema lacks, does not compile."""
    program = compile_program(CODEC.catalog.latest(TAGGED_ACCESS_EVENT).schema)
    assert program is not None
    with pytest.raises(PlanMismatch):
        compile_columns(program, ACCESS_EVENT_PLAN[:-1], COLUMNS["access_events"])
    wrong = (("event_id", "string", ("no_such_field",)), *ACCESS_EVENT_PLAN[1:])
    with pytest.raises(PlanMismatch):
        compile_columns(program, wrong, COLUMNS["access_events"])


@pytest.mark.parametrize("record", sorted(PLANS))
def test_every_plan_fits_its_schema_and_table(record: str) -> None:
    """Each plan compiles against the newest schema of its record and its table's columns."""
    table, plan = PLANS[record]
    program = compile_program(CODEC.catalog.latest(record).schema)
    assert program is not None
    assert len(compile_columns(program, plan, COLUMNS[table])) == len(COLUMNS[table])
