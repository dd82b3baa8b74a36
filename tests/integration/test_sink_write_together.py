"""A flush's new segments of every partition are one insert per table; a replayed range,
whoever replays it and whatever its write stored before, is stored exactly once: replayed
whole (all its write's ranges at hand: the same insert, the same tokens) or range by range."""

from __future__ import annotations

import zlib
from dataclasses import replace
from typing import Any

import pytest

from dua_schemas import TAGGED_ACCESS_EVENT, WireCodec
from dua_sink import AuditStore, PartitionBuffer, RecordRouter, Segment, SinkTopics, migrate
from dua_sink.routing import Pending
from dua_sink.testing import tagged_event
from dua_sink.write_behind import write

pytestmark = pytest.mark.integration

TOPICS = SinkTopics(tagged="t.tagged", violations="t.violations", dlq="t.dlq")
CODEC = WireCodec()
ROUTER = RecordRouter(TOPICS, CODEC)
WHEN_MS = 1_767_607_200_000
PARTITIONS = (0, 1, 2)
BAD = 7  # partition 1's message at this offset is not an event: a rejected row


def _payloads(partition: int) -> list[bytes]:
    payloads = [CODEC.encode(TAGGED_ACCESS_EVENT, tagged_event()) for _ in range(20)]
    if partition == 1:
        payloads[BAD] = b"\xc3\x01not an event"
    return payloads


PAYLOADS = {partition: _payloads(partition) for partition in PARTITIONS}


def _build(segment: Segment) -> Segment:
    block, routed = ROUTER.route_pending(segment.topic, segment.partition, segment.pending)
    return segment.with_rows(block, routed)


def _read(store: AuditStore, partitions: tuple[int, ...] = PARTITIONS) -> list[Any]:
    """The partitions' messages as a (new) sink reads them: its buffers, their plans loaded,
    cut; ready to `write`."""
    ready = []
    for partition in partitions:
        buffer = PartitionBuffer(TOPICS.tagged, partition)
        for offset, payload in enumerate(PAYLOADS[partition]):
            buffer.defer(offset, Pending(payload, None, WHEN_MS), zlib.crc32(payload))
        buffer.plan = store.planned_ranges(TOPICS.tagged, partition, 0)
        ready.append((buffer, buffer.cut(1000, due=True)))
    return ready


def _count(client: Any, database: str, sql: str) -> int:
    return int(client.command(sql.format(db=database)))


@pytest.fixture
def store(chdb_client: Any, clickhouse_database: str) -> AuditStore:
    migrate(chdb_client, clickhouse_database, retention_days=3650)
    return AuditStore(chdb_client, clickhouse_database, "together")


def _stored(client: Any, database: str) -> tuple[int, int, int]:
    return (
        _count(client, database, "SELECT count() FROM {db}.access_events"),
        _count(client, database, "SELECT sum(events) FROM {db}.access_hourly"),
        _count(client, database, "SELECT count() FROM {db}.rejected_events"),
    )


def test_a_flush_of_several_partitions_is_one_part_per_table(
    store: AuditStore, chdb_client: Any, clickhouse_database: str
) -> None:
    """Three partitions' segments: one insert (one part) per table, every row marked with
    the write's id, and every segment reported stored for its commit."""
    outcome = write(store, _build, _read(store))
    assert outcome.error is None
    assert sorted(s.partition for _, s, _ in outcome.stored) == list(PARTITIONS)
    assert _stored(chdb_client, clickhouse_database) == (59, 59, 1)
    parts = "SELECT count() FROM system.parts WHERE database = '{db}' AND table = '%s' AND active"
    assert _count(chdb_client, clickhouse_database, parts % "access_events") == 1
    assert _count(chdb_client, clickhouse_database, parts % "rejected_events") == 1
    marks = "SELECT groupUniqArray(sink_write) FROM {db}.access_events"
    assert chdb_client.query(marks.format(db=clickhouse_database)).result_rows[0][0] == [
        outcome.write_id
    ]


def _whole(store: AuditStore, ready: list[Any]) -> frozenset[str]:
    """The writes all of whose ranges are in `ready` (as the sink loop decides)."""
    present: dict[str, set[Any]] = {}
    for _, segments in ready:
        for segment in segments:
            present.setdefault(segment.write_id, set()).add(segment.member)
    members = store.write_members([w for w in present if w])
    return frozenset(w for w, ranges in members.items() if ranges and present[w] >= ranges)


def test_a_write_whose_views_missed_its_rows_is_completed_by_a_whole_replay(
    store: AuditStore, chdb_client: Any, clickhouse_database: str
) -> None:
    """The process died after the table took the insert, before its views did: the rows are
    there, the hourly aggregate is not. Replayed whole, the views get them, once."""
    database = clickhouse_database
    chdb_client.command(f"DETACH TABLE {database}.access_hourly_mv")
    first = write(store, _build, _read(store))
    chdb_client.command(f"ATTACH TABLE {database}.access_hourly_mv")
    assert _count(chdb_client, database, "SELECT count() FROM {db}.access_events") == 59
    assert _count(chdb_client, database, "SELECT count() FROM {db}.access_hourly") == 0
    ready = _read(store)
    assert _whole(store, ready) == {first.write_id}
    for _ in range(2):
        replay = write(store, _build, ready, whole=_whole(store, ready))
        assert replay.error is None
        assert _stored(chdb_client, database) == (59, 59, 1)


def test_a_replayed_range_is_not_stored_again_by_any_sink(
    store: AuditStore, chdb_client: Any, clickhouse_database: str
) -> None:
    """After a crash before the commit, the ranges are read again: one sink replaying all of
    them, or another replaying one partition alone, stores nothing more."""
    first = write(store, _build, _read(store))
    replay = write(store, _build, _read(store))
    assert replay.error is None
    assert all(s.planned and s.write_id == first.write_id for _, s, _ in replay.stored)
    assert all(tables == {} for _, _, tables in replay.stored)  # nothing inserted
    alone = write(store, _build, _read(store, partitions=(1,)))
    assert [tables for _, _, tables in alone.stored] == [{}]
    assert _stored(chdb_client, clickhouse_database) == (59, 59, 1)


def test_a_write_that_never_landed_is_stored_once_by_its_replays(
    store: AuditStore, chdb_client: Any, clickhouse_database: str
) -> None:
    """Planned, then the process died before inserting: the replay stores the ranges (each
    alone), and a replay of that replay stores nothing more."""
    ready = _read(store)
    store.record_plan([s for _, segments in ready for s in segments], "lost-write")
    replay = write(store, _build, _read(store))
    assert [s.write_id for _, s, _ in replay.stored] == ["lost-write"] * 3
    assert _stored(chdb_client, clickhouse_database) == (59, 59, 1)
    write(store, _build, _read(store))
    ready = _read(store)
    write(store, _build, ready, whole=_whole(store, ready))
    assert _stored(chdb_client, clickhouse_database) == (59, 59, 1)


def test_a_write_that_landed_in_one_table_only_is_completed_by_its_replay(
    store: AuditStore, chdb_client: Any, clickhouse_database: str
) -> None:
    """The access rows landed, the rejected row's insert did not: the replay stores only the
    rejected row."""
    ready = _read(store)
    segments = [_build(s) for _, segs in ready for s in segs]
    store.record_plan(segments, "half-write")
    store.write_together([replace(s, rows={}) for s in segments], "half-write")
    assert _stored(chdb_client, clickhouse_database) == (59, 59, 0)
    write(store, _build, _read(store))
    assert _stored(chdb_client, clickhouse_database) == (59, 59, 1)


def test_a_recreated_topic_s_messages_at_planned_offsets_are_new(
    store: AuditStore, chdb_client: Any, clickhouse_database: str
) -> None:
    """Other messages at the offsets of a planned range (the topic was deleted and made
    again): they are not that range, and are stored."""
    write(store, _build, _read(store, partitions=(0,)))
    PAYLOADS[0], saved = _payloads(0), PAYLOADS[0]
    try:
        ((_, (segment,)),) = _read(store, partitions=(0,))
        assert not segment.planned
        write(store, _build, [(PartitionBuffer(TOPICS.tagged, 0), [segment])])
    finally:
        PAYLOADS[0] = saved
    assert _stored(chdb_client, clickhouse_database)[:2] == (40, 40)
