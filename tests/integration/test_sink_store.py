"""Exactly-once as queries see it: replayed offset ranges and re-emitted events stay single."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

import pytest

from dua_schemas import WireCodec
from dua_sink import AuditStore, PartitionBuffer, RecordRouter, Segment, SinkTopics, migrate
from dua_sink.row_mapping import Source
from dua_sink.testing import tagged_event

pytestmark = pytest.mark.integration

TOPICS = SinkTopics(tagged="t.tagged", violations="t.violations", dlq="t.dlq")
CODEC = WireCodec()
ROUTER = RecordRouter(TOPICS, CODEC)
WHEN = datetime(2026, 1, 5, 10, tzinfo=UTC)


@pytest.fixture
def store(chdb_client: Any, clickhouse_database: str) -> AuditStore:
    migrate(chdb_client, clickhouse_database, retention_days=3650)
    return AuditStore(chdb_client, clickhouse_database, "test-group")


def _buffer(events: list[dict[str, Any]], first_offset: int = 0) -> PartitionBuffer:
    buffer = PartitionBuffer(TOPICS.tagged, 0)
    for offset, event in enumerate(events, start=first_offset):
        payload = CODEC.encode("TaggedAccessEvent", event)
        routed = ROUTER.route(Source(TOPICS.tagged, 0, offset, WHEN), payload, None)
        buffer.add(offset, routed, zlib.crc32(payload))
    return buffer


def _plan_and_cut(store: AuditStore, buffer: PartitionBuffer, max_rows: int) -> list[Segment]:
    buffer.plan = store.planned_ranges(buffer.topic, buffer.partition, buffer.items[0].offset)
    segments = buffer.cut(max_rows, due=True)
    store.record_plan([s for s in segments if not s.planned])
    return segments


def _count(client: Any, database: str, sql: str) -> int:
    return int(client.command(sql.format(db=database)))


def test_replaying_the_same_offsets_adds_nothing(
    store: AuditStore, chdb_client: Any, clickhouse_database: str
) -> None:
    """A segment written three times leaves its rows once, in the table and in the aggregates."""
    events = [tagged_event() for _ in range(50)]
    (segment,) = _plan_and_cut(store, _buffer(events), max_rows=100)
    for _ in range(3):
        store.write(segment)
    assert _count(chdb_client, clickhouse_database, "SELECT count() FROM {db}.access_events") == 50
    hourly = "SELECT sum(events) FROM {db}.access_hourly"
    assert _count(chdb_client, clickhouse_database, hourly) == 50


def test_after_a_crash_the_same_ranges_are_cut_again(
    store: AuditStore, chdb_client: Any, clickhouse_database: str
) -> None:
    """A new run reading the plan cuts the redelivered messages exactly as before, so they dedup."""
    events = [tagged_event() for _ in range(30)]
    first_run = _plan_and_cut(store, _buffer(events[:25], 100), max_rows=10)
    for segment in first_run:
        store.write(segment)  # written, then the process dies before committing
    # Redelivery from the last committed offset (100), now with 5 more messages behind.
    second_run = _plan_and_cut(store, _buffer(events, 100), max_rows=7)
    assert [(s.first_offset, s.last_offset) for s in second_run[:3]] == [
        (s.first_offset, s.last_offset) for s in first_run
    ]
    assert [s.token("test-group") for s in second_run[:3]] == [
        s.token("test-group") for s in first_run
    ]
    for segment in second_run:
        store.write(segment)
    assert _count(chdb_client, clickhouse_database, "SELECT count() FROM {db}.access_events") == 30
    distinct = "SELECT uniqExact(event_id) FROM {db}.access_events"
    assert _count(chdb_client, clickhouse_database, distinct) == 30


def test_an_event_emitted_twice_upstream_is_shown_once(
    store: AuditStore, chdb_client: Any, clickhouse_database: str
) -> None:
    """The same event at two offsets (a processor retry) is folded by the *_unique view."""
    event = tagged_event()
    segments = _plan_and_cut(store, _buffer([event, event]), max_rows=1)
    assert len(segments) == 2  # two inserts with two tokens: the token layer cannot help here
    for segment in segments:
        store.write(segment)
    unique = "SELECT count() FROM {db}.access_events_unique"
    assert _count(chdb_client, clickhouse_database, unique) == 1


def test_strings_that_look_like_sql_are_stored_verbatim(
    store: AuditStore, chdb_client: Any, clickhouse_database: str
) -> None:
    """Quotes, semicolons and comment markers in any field arrive unchanged and harmless."""
    nasty = "x'); DROP TABLE access_events; -- \\' \" `"
    event = tagged_event(
        service=nasty,
        actor={"kind": "USER", "id": "1' OR '1'='1"},
        purpose="service.x'; SELECT 1 --",
        attributes={"q": "{since:String}"},
    )
    for segment in _plan_and_cut(store, _buffer([event]), max_rows=10):
        store.write(segment)
    row = chdb_client.query(
        f"SELECT service, actor_id, purpose, attributes FROM {clickhouse_database}.access_events"
    ).result_rows
    assert row == [(nasty, "1' OR '1'='1", "service.x'; SELECT 1 --", {"q": "{since:String}"})]
