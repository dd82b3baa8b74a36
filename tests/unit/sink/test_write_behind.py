"""The sink reads on while a write is in flight, and commits a range only once it is stored.

The broker and ClickHouse are doubles here (the real ones are in
tests/integration/test_sink_*.py and tests/reliability/): what is tested is the loop's own
ordering between the consuming thread and the writer thread.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dua_schemas import WireCodec
from dua_sink import BackoffPolicy, SinkConfig, SinkTopics
from dua_sink.batching import OffsetRange, Segment
from dua_sink.errors import ClickHouseUnavailable
from dua_sink.metrics import SinkMetrics
from dua_sink.routing import RecordRouter
from dua_sink.sink_loop import BatchingSink
from dua_sink.tables import TableName
from dua_sink.testing import tagged_event

TOPICS = SinkTopics("tagged", "violations", "dlq")
CODEC = WireCodec()
WAIT_S = 10.0


class _Message:
    def __init__(self, offset: int) -> None:
        self._offset = offset
        self._value = CODEC.encode("TaggedAccessEvent", tagged_event())

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return TOPICS.tagged

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def value(self) -> bytes:
        return self._value

    def key(self) -> bytes:
        return b"subject"

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_700_000_000_000)


class _TP:
    def __init__(self, topic: str, partition: int) -> None:
        self.topic, self.partition, self.offset = topic, partition, -1


class _Consumer:
    """Hands out `batches` one per consume(); records commits and what was in flight then."""

    def __init__(self, batches: list[list[_Message]], store: _Store) -> None:
        self._batches = batches
        self._store = store
        self.commits: list[int] = []
        self.consumed_while_writing = 0
        self._on_assign: Any = None

    def subscribe(self, topics: list[str], **callbacks: Any) -> None:
        self._on_assign = callbacks["on_assign"]

    def consume(self, num_messages: int, timeout: float) -> list[Any]:
        if self._on_assign is not None:
            self._on_assign(self, [_TP(TOPICS.tagged, 0)])
            self._on_assign = None
        if not self._batches:
            threading.Event().wait(min(timeout, 0.01))
            return []
        if self._store.writing.is_set():
            self.consumed_while_writing += 1
        return self._batches.pop(0)

    def commit(self, *, offsets: list[Any], asynchronous: bool) -> None:
        assert not asynchronous
        self.commits.extend(tp.offset for tp in offsets)

    def pause(self, partitions: list[Any]) -> None: ...
    def resume(self, partitions: list[Any]) -> None: ...
    def assignment(self) -> list[Any]:
        return [_TP(TOPICS.tagged, 0)]

    def position(self, partitions: list[Any]) -> list[Any]:
        return partitions

    def get_watermark_offsets(self, partition: Any, *, cached: bool) -> Any:
        return (0, 0)

    def close(self) -> None: ...


class _Store:
    """Writes block until released; `fail_first` makes the first write fail."""

    def __init__(self, *, fail_first: bool = False) -> None:
        self.writing = threading.Event()
        self.release = threading.Event()
        self.stored: list[tuple[int, int, str]] = []
        self.plans: list[tuple[list[tuple[int, int]], str]] = []
        self.replays: list[bool] = []
        self._fail_first = fail_first

    @property
    def group(self) -> str:
        return "g"

    def planned_ranges(self, topic: str, partition: int, from_offset: int) -> list[OffsetRange]:
        return []

    def write_members(self, write_ids: Sequence[str]) -> dict[str, frozenset[Any]]:
        raise AssertionError("a retry within the run knows its write's ranges")

    def record_plan(self, segments: Sequence[Segment], write_id: str = "") -> None:
        if segments:  # as the store: nothing new, nothing recorded
            self.plans.append(([(s.first_offset, s.last_offset) for s in segments], write_id))

    def write_together(self, segments: Sequence[Segment], write_id: str) -> None:
        self._block()
        self.stored.extend((s.first_offset, s.last_offset, write_id) for s in segments)

    def replay(
        self, segments: Sequence[Segment], write_id: str, *, complete: bool
    ) -> list[dict[TableName, int]]:
        """The planned ranges of `write_id` again: `complete`, they are all of its ranges."""
        self._block()
        self.stored.extend((s.first_offset, s.last_offset, write_id) for s in segments)
        self.replays.append(complete)
        return [{"access_events": s.messages} for s in segments]

    def write(self, segment: Segment) -> dict[TableName, int]:
        """A replayed segment, alone: it names the write that planned it."""
        self._block()
        self.stored.append((segment.first_offset, segment.last_offset, segment.write_id))
        return {"access_events": segment.messages}

    def _block(self) -> None:
        self.writing.set()
        assert self.release.wait(WAIT_S), "the test never released the write"
        self.writing.clear()
        if self._fail_first:
            self._fail_first = False
            raise ClickHouseUnavailable("ClickHouse went away", table="access_events")


def _sink(consumer: _Consumer, store: _Store) -> BatchingSink:
    config = SinkConfig(
        bootstrap="unused",
        group="g",
        topics=TOPICS,
        dsn="chdb://unused",
        database="d",
        retention_days=30,
        state_dir=Path("unused"),
        flush_interval_s=0.0,  # every turn of the loop may flush
        backoff=BackoffPolicy(initial_s=0.01, max_s=0.01, multiplier=1.0),
    )
    return BatchingSink(
        consumer,
        RecordRouter(TOPICS, CODEC, native=False),
        store,  # type: ignore[arg-type]
        config,
        metrics=SinkMetrics(),
    )


def _run(sink: BatchingSink) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=sink.run, args=(stop,), daemon=True)
    thread.start()
    return thread, stop


def _until(condition: Any) -> None:
    deadline = threading.Event()
    for _ in range(int(WAIT_S / 0.01)):
        if condition():
            return
        deadline.wait(0.01)
    raise AssertionError("timed out")


def test_messages_are_read_while_a_write_is_in_flight_and_committed_after_it() -> None:
    store = _Store()
    consumer = _Consumer([[_Message(0), _Message(1)], [_Message(2)], [_Message(3)]], store)
    thread, stop = _run(_sink(consumer, store))
    _until(store.writing.is_set)
    # the first write blocks: the later batches are read meanwhile, nothing is committed
    _until(lambda: consumer.consumed_while_writing == 2)
    assert consumer.commits == []
    store.release.set()
    _until(lambda: consumer.commits and consumer.commits[-1] == 4)
    stop.set()
    thread.join(WAIT_S)
    # the first write took offsets 0-1; what was read during it went in the next write
    assert [(first, last) for first, last, _ in store.stored] == [(0, 1), (2, 3)]
    assert consumer.commits == [2, 4]
    # each write recorded its new ranges under its own id before storing them with it
    assert [(ranges, write_id) for ranges, write_id in store.plans] == [
        ([(0, 1)], store.stored[0][2]),
        ([(2, 3)], store.stored[1][2]),
    ]
    assert store.stored[0][2] != store.stored[1][2]


def test_a_failed_write_commits_nothing_and_the_same_range_is_written_again() -> None:
    """After a failed write its range is replayed alone, with the failed write's id, so the
    store can tell what that write stored before it failed."""
    store = _Store(fail_first=True)
    consumer = _Consumer([[_Message(0), _Message(1)]], store)
    thread, stop = _run(_sink(consumer, store))
    _until(store.writing.is_set)
    store.release.set()
    _until(lambda: consumer.commits == [2])
    stop.set()
    thread.join(WAIT_S)
    # the retry is the failed write again, whole: its range, its id (so its tokens)
    ((planned, write_id),) = store.plans
    assert planned == [(0, 1)]
    assert store.stored == [(0, 1, write_id)]
    assert store.replays == [True]
