"""Native blocks land in ClickHouse as the Python path's rows do, deduplicated the same."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dua_schemas import TAGGED_ACCESS_EVENT, WireCodec
from dua_schemas.avro_reader import NATIVE
from dua_sink import AuditStore, PartitionBuffer, RecordRouter, SinkTopics, migrate
from dua_sink.routing import Pending
from dua_sink.row_mapping import Source
from dua_sink.tables import ACCESS_EVENTS, COLUMNS
from dua_sink.testing import tagged_event, violation_summary

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(NATIVE is None, reason="the native build is not installed"),
]

TOPICS = SinkTopics(tagged="t.tagged", violations="t.violations", dlq="t.dlq")
CODEC = WireCodec()
WHEN = datetime(2026, 1, 5, 10, tzinfo=UTC)
WHEN_MS = int(WHEN.timestamp() * 1000)
COMPARED = "SELECT * EXCEPT inserted_at FROM {db}.access_events ORDER BY source_offset FORMAT TSV"


def _payloads() -> list[bytes]:
    events = [
        tagged_event(
            occurred_at=WHEN + timedelta(milliseconds=7 * i),
            subject_id=None if i % 3 else "f" * 64,
            attributes={"k": str(i)} if i % 2 else {},
            violations=[violation_summary("r", "high")] if i % 4 == 0 else [],
        )
        for i in range(40)
    ]
    payloads = [CODEC.encode(TAGGED_ACCESS_EVENT, e) for e in events]
    payloads[5] = b"\xc3\x01bad"  # one the sink must reject, among the good ones
    return payloads


PAYLOADS = _payloads()


def _store_all(client: Any, database: str, *, native: bool) -> AuditStore:
    migrate(client, database, retention_days=3650)
    store = AuditStore(client, database, "row-binary-test")
    router = RecordRouter(TOPICS, CODEC, native=native)
    buffer = PartitionBuffer(TOPICS.tagged, 1)
    for offset, payload in enumerate(PAYLOADS):
        crc = zlib.crc32(payload)
        if router.defers(TOPICS.tagged):
            buffer.defer(offset, Pending(payload, None, WHEN_MS), crc)
        else:
            buffer.add(
                offset, router.route(Source(TOPICS.tagged, 1, offset, WHEN), payload, None), crc
            )
    buffer.plan = []
    (segment,) = buffer.cut(1000, due=True)
    if segment.pending:
        block, routed = router.route_pending(segment.topic, segment.partition, segment.pending)
        segment = segment.with_rows(block, routed)
        assert segment.blocks
    for _ in range(2):  # a replay with the same token adds nothing
        store.write(segment)
    return store


def test_native_rows_land_as_the_python_rows(chdb_client: Any, clickhouse_database: str) -> None:
    """Same table content both ways, the bad message rejected both ways, a replay dropped."""
    python_db, native_db = f"{clickhouse_database}_py", f"{clickhouse_database}_native"
    _store_all(chdb_client, python_db, native=False)
    _store_all(chdb_client, native_db, native=True)
    python_rows = chdb_client.command(COMPARED.format(db=python_db))
    native_rows = chdb_client.command(COMPARED.format(db=native_db))
    assert native_rows == python_rows
    for db in (python_db, native_db):
        assert int(chdb_client.command(f"SELECT count() FROM {db}.access_events")) == 39
        assert int(chdb_client.command(f"SELECT sum(events) FROM {db}.access_hourly")) > 0
        rejected = f"SELECT count() FROM {db}.rejected_events"
        assert int(chdb_client.command(rejected)) == 1


def _plain(column_type: str) -> str:
    """The type without its LowCardinality wrappers."""
    return re.sub(r"LowCardinality\(([^()]*)\)", r"\1", column_type)


def test_a_native_block_is_the_block_clickhouse_writes_of_the_same_rows(
    chdb_client: Any, clickhouse_database: str
) -> None:
    """The engine's own Native output of the stored rows (plain types) is, byte for byte, the
    block the native code builds from their bodies: header, sizes, keys and values."""
    database = f"{clickhouse_database}_ref"
    _store_all(chdb_client, database, native=False)
    good = [(offset, p) for offset, p in enumerate(PAYLOADS) if offset != 5]
    router = RecordRouter(TOPICS, CODEC)
    block, routed = router.route_pending(
        TOPICS.tagged, 1, [(offset, Pending(p, None, WHEN_MS)) for offset, p in good]
    )
    assert block is not None
    assert routed == []
    types = dict(
        chdb_client.query(
            "SELECT name, type FROM system.columns WHERE database = {db:String} "
            "AND table = {table:String}",
            parameters={"db": database, "table": ACCESS_EVENTS},
        ).result_rows
    )
    # The block names plain types; the table stores LowCardinality: ask for the plain ones.
    plain = [f"CAST({name} AS {_plain(types[name])}) AS {name}" for name in COLUMNS[ACCESS_EVENTS]]
    engine_block = chdb_client.raw_query(
        f"SELECT {', '.join(plain)} FROM {database}.access_events "
        "ORDER BY source_offset FORMAT Native"
    )
    assert b"LowCardinality" not in engine_block
    assert block.data == engine_block
