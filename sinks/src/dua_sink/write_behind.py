"""Step `sink.write` on a thread of its own, so consuming goes on while ClickHouse inserts.

chDB releases the GIL while it runs a statement, so on two cores the next batch is read and
routed while the previous one is inserted: the sink costs about the larger of the two
instead of their sum. The rows of the segments' deferred messages are built on this thread
too (natively, without the GIL). A write stores its new segments, of every partition, in one
insert per table (`AuditStore.write_together`); replayed segments go first, the writes that
planned them in the order they were planned: whole again where the sink has all their
ranges, else segment by segment. At most one write is in flight. The thread only builds
rows and talks to ClickHouse: every change to the sink's own state (buffers, plans, commits,
metrics) is made by the consuming thread once the write is collected
(`BatchingSink._collect`), so nothing else is shared between the threads.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from dua_sink.audit_store import AuditStore
from dua_sink.batching import PartitionBuffer, Ready, Segment
from dua_sink.errors import ClickHouseUnavailable
from dua_sink.tables import TableName

# A segment with the rows of its deferred messages built (`BatchingSink._built`).
Build = Callable[[Segment], Segment]


@dataclass(slots=True)
class WriteOutcome:
    """What one write stored before it finished or failed."""

    ready: Ready
    write_id: str  # marks the rows of the new segments, and their ranges in the plan
    planned: bool = False  # the new segments' ranges are recorded in the plan
    # each stored segment (its rows built) with its rows per table, in offset order per partition
    stored: list[tuple[PartitionBuffer, Segment, dict[TableName, int]]] = field(
        default_factory=list
    )
    error: ClickHouseUnavailable | None = None


def new_write_id() -> str:
    """A write's id: its time first, so ids sort in the order writes were planned."""
    return f"{time.time_ns():016x}-{uuid.uuid4().hex[:12]}"


def write(
    store: AuditStore, build: Build, ready: Ready, whole: frozenset[str] = frozenset()
) -> WriteOutcome:
    """Record the new ranges, build every segment's rows, write the replayed segments (the
    writes in `whole` together again, the others' one by one), then the new ones together;
    stop at the first failure."""
    outcome = WriteOutcome(ready, new_write_id())
    try:
        store.record_plan(
            [s for _, segments in ready for s in segments if not s.planned], outcome.write_id
        )
        outcome.planned = True
        built = [(buffer, build(segment)) for buffer, segments in ready for segment in segments]
        # In each partition, replayed ranges come before new ones (`cut`) and an earlier
        # write's before a later one's: stored in that order, each partition's stored
        # segments stay in offset order, as its commit needs.
        replayed = sorted(
            ((buffer, segment) for buffer, segment in built if segment.planned),
            key=lambda item: item[1].write_id,
        )
        for write_id in dict.fromkeys(segment.write_id for _, segment in replayed):
            group = [(b, s) for b, s in replayed if s.write_id == write_id]
            if not write_id:  # planned before migration 007: each range with its own token
                for buffer, segment in group:
                    outcome.stored.append((buffer, segment, store.write(segment)))
                continue
            segments = [segment for _, segment in group]
            inserted = store.replay(segments, write_id, complete=write_id in whole)
            outcome.stored.extend(
                (buffer, segment, rows)
                for (buffer, segment), rows in zip(group, inserted, strict=True)
            )
        new = [(buffer, segment) for buffer, segment in built if not segment.planned]
        if new:
            store.write_together([segment for _, segment in new], outcome.write_id)
            outcome.stored.extend((b, s, s.row_counts()) for b, s in new)
    except ClickHouseUnavailable as exc:
        outcome.error = exc
    return outcome


class WriteBehind:
    """One writer thread; `submit` a write, `collect` its outcome."""

    __slots__ = ("_build", "_executor", "_in_flight", "_store")

    def __init__(self, store: AuditStore, build: Build) -> None:
        self._store = store
        self._build = build
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dua-sink-write")
        self._in_flight: Future[WriteOutcome] | None = None

    @property
    def busy(self) -> bool:
        """A write is in flight (finished or not, it has not been collected)."""
        return self._in_flight is not None

    @property
    def finished(self) -> bool:
        """A write is in flight and has finished."""
        return self._in_flight is not None and self._in_flight.done()

    def submit(self, ready: Ready, whole: frozenset[str] = frozenset()) -> None:
        """Start `write(ready, whole)` on the writer's thread."""
        if self._in_flight is not None:
            raise RuntimeError("a write is already in flight: collect it first")
        self._in_flight = self._executor.submit(write, self._store, self._build, ready, whole)

    def collect(self) -> WriteOutcome | None:
        """The outcome of the write in flight, waiting for it; None when there is none."""
        in_flight, self._in_flight = self._in_flight, None
        return None if in_flight is None else in_flight.result()

    def close(self) -> None:
        self._executor.shutdown(wait=True)
