"""Step `sink.write` on a thread of its own, so consuming goes on while ClickHouse inserts.

chDB releases the GIL while it runs a statement, so on two cores the next batch is read and
routed while the previous one is inserted: the sink costs about the larger of the two
instead of their sum. The rows of a segment's deferred messages are built on this thread too,
just before its insert (natively, without the GIL), so the first insert of a flush does not
wait for the last segment's rows. At most one write is in flight. The thread only builds
rows and talks to ClickHouse: every change to the sink's own state (buffers, plans, commits,
metrics) is made by the consuming thread once the write is collected
(`BatchingSink._collect`), so nothing else is shared between the threads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from dua_sink.audit_store import AuditStore
from dua_sink.batching import PartitionBuffer, Segment
from dua_sink.errors import ClickHouseUnavailable
from dua_sink.tables import TableName

Ready = Sequence[tuple[PartitionBuffer, list[Segment]]]
# A segment with the rows of its deferred messages built (`BatchingSink._built`).
Build = Callable[[Segment], Segment]


@dataclass(slots=True)
class WriteOutcome:
    """What one write stored before it finished or failed."""

    ready: Ready
    planned: bool = False  # the new segments' ranges are recorded in the plan
    # in write order: each stored segment (its rows built) with its rows per table
    stored: list[tuple[PartitionBuffer, Segment, dict[TableName, int]]] = field(
        default_factory=list
    )
    error: ClickHouseUnavailable | None = None


def write(store: AuditStore, build: Build, ready: Ready) -> WriteOutcome:
    """Record the new ranges, then build and insert each segment; stop at the first failure."""
    outcome = WriteOutcome(ready)
    try:
        store.record_plan([s for _, segments in ready for s in segments if not s.planned])
        outcome.planned = True
        for buffer, segments in ready:
            for segment in segments:
                built = build(segment)
                outcome.stored.append((buffer, built, store.write(built)))
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

    def submit(self, ready: Ready) -> None:
        if self._in_flight is not None:
            raise RuntimeError("a write is already in flight: collect it first")
        self._in_flight = self._executor.submit(write, self._store, self._build, ready)

    def collect(self) -> WriteOutcome | None:
        """The outcome of the write in flight, waiting for it; None when there is none."""
        in_flight, self._in_flight = self._in_flight, None
        return None if in_flight is None else in_flight.result()

    def close(self) -> None:
        self._executor.shutdown(wait=True)
