"""Per-partition batches cut into deterministic offset ranges (pure logic, no I/O).

A `PartitionBuffer` holds the messages read from one partition and not yet written. `cut`
turns them into `Segment`s — the units that are written and then committed. Ranges recorded
by an earlier run (the *plan*) are reproduced exactly, with the write that planned them, so a
range redelivered after a crash is recognised: what that write stored is not stored again
(`AuditStore.write`); anything after the plan is cut fresh, at most `max_rows` messages per
segment, and written with the flush's other new segments (`AuditStore.write_together`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from dua_sink.routing import Pending, Routed, RowBlock
from dua_sink.row_mapping import Row
from dua_sink.tables import TableName


@dataclass(frozen=True, slots=True)
class OffsetRange:
    """An inclusive range of offsets of one partition, as planned: the digest of its messages
    and the write that stores them ('' for either: not known, a plan older than both)."""

    first: int
    last: int
    digest: str = ""
    write_id: str = ""


# A planned range as a write's member: topic, partition, first and last offset.
Member = tuple[str, int, int, int]


class Buffered(NamedTuple):
    """One message waiting to be written: its offset, its row, the CRC of its bytes.

    `routed` is None for a message whose row is built with its segment's (`pending`). A
    NamedTuple, not a frozen dataclass: one is made per message read.
    """

    offset: int
    routed: Routed | None
    crc: int
    pending: Pending | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """Messages of one partition's offset range, written together and committed together."""

    topic: str
    partition: int
    first_offset: int
    last_offset: int
    messages: int
    digest: str
    planned: bool
    rows: dict[TableName, list[Row]] = field(repr=False)
    # Messages whose rows are still to be built, all at once (`RecordRouter.route_pending`).
    pending: tuple[tuple[int, Pending], ...] = field(default=(), repr=False)
    # Rows built natively: a Native block per table.
    blocks: dict[TableName, RowBlock] = field(default_factory=dict, repr=False)
    # Reasons of the pending messages that became rejected rows.
    rejected: tuple[str, ...] = ()
    # A planned segment: the write its plan names ('' for plans older than migration 007).
    write_id: str = ""

    @property
    def member(self) -> Member:
        """This segment's range, as the plan lists it among its write's."""
        return (self.topic, self.partition, self.first_offset, self.last_offset)

    def row_counts(self) -> dict[TableName, int]:
        """Rows per table, built ones included."""
        counts = {table: len(rows) for table, rows in self.rows.items() if rows}
        for table, block in self.blocks.items():
            counts[table] = counts.get(table, 0) + block.rows
        return counts

    @property
    def commit_offset(self) -> int:
        """The offset to commit once this segment is stored (Kafka's "next to read")."""
        return self.last_offset + 1

    def with_rows(self, block: RowBlock | None, routed: Sequence[Routed]) -> Segment:
        """This segment with its pending messages' rows: `block`, and `routed` rows."""
        rows = {table: list(table_rows) for table, table_rows in self.rows.items()}
        for item in routed:
            rows.setdefault(item.table, []).append(item.row)
        return replace(
            self,
            rows=rows,
            pending=(),
            blocks={block.table: block} if block is not None and block.rows else {},
            rejected=tuple(item.rejected for item in routed if item.rejected is not None),
        )

    def token(self, group: str) -> str:
        """The insert_deduplication_token: the same range with the same bytes, the same token."""
        return dedup_token(
            group,
            self.topic,
            self.partition,
            first=self.first_offset,
            last=self.last_offset,
            digest=self.digest,
        )


def dedup_token(
    group: str, topic: str, partition: int, *, first: int, last: int, digest: str
) -> str:
    """Token of a range; the content digest keeps a recreated topic's reused offsets apart."""
    return f"{group}/{topic}/{partition}/{first}-{last}/{digest}"


def digest_of(items: Sequence[Buffered]) -> str:
    """A short digest of the offsets and payload CRCs of a run of messages."""
    hasher = hashlib.blake2b(digest_size=8)
    for item in items:
        hasher.update(item.offset.to_bytes(8, "big", signed=True))
        hasher.update(item.crc.to_bytes(4, "big"))
    return hasher.hexdigest()


class PartitionBuffer:
    """The unwritten messages of one partition, and the plan they must be cut along."""

    __slots__ = ("items", "partition", "plan", "topic")

    def __init__(self, topic: str, partition: int) -> None:
        self.topic = topic
        self.partition = partition
        self.items: list[Buffered] = []
        # None until read from the store: the first cut after an assignment must know it.
        self.plan: list[OffsetRange] | None = None

    def __len__(self) -> int:
        return len(self.items)

    def add(self, offset: int, routed: Routed, crc: int) -> None:
        self.items.append(Buffered(offset, routed, crc))

    def defer(self, offset: int, pending: Pending, crc: int) -> None:
        """A message whose row is built when its segment is (natively, all at once)."""
        self.items.append(Buffered(offset, None, crc, pending))

    def cut(self, max_rows: int, *, due: bool) -> list[Segment]:
        """Segments ready to write, in offset order.

        Planned ranges come first and only once complete (the range's last offset, or a later
        one, has arrived). New segments follow: full ones of `max_rows` always, the remainder
        only when `due` (the flush interval passed, or shutdown).
        """
        if self.plan is None:
            raise RuntimeError("cut() before the partition's plan was loaded")
        items = self.items
        segments: list[Segment] = []
        index = 0
        for planned in self.plan:
            if index >= len(items):
                return segments
            if items[index].offset > planned.last:
                continue
            if items[index].offset < planned.first:
                gap_end = _first_at_or_after(items, index, planned.first)
                segments.append(self._segment(items[index:gap_end], planned=False))
                index = gap_end
                if index >= len(items):
                    return segments
            end = _first_at_or_after(items, index, planned.last + 1)
            if end == len(items) and items[-1].offset < planned.last:
                return segments  # incomplete: wait for the rest of the range
            segments.append(self._replayed(items[index:end], planned))
            index = end
        while len(items) - index >= max_rows:
            segments.append(self._segment(items[index : index + max_rows], planned=False))
            index += max_rows
        if due and index < len(items):
            segments.append(self._segment(items[index:], planned=False))
        return segments

    def written(self, segment: Segment) -> None:
        """Forget the messages of a stored segment, and the plan ranges it covered."""
        keep = 0
        while keep < len(self.items) and self.items[keep].offset <= segment.last_offset:
            keep += 1
        del self.items[:keep]
        if self.plan is not None:
            self.plan = [r for r in self.plan if r.last > segment.last_offset]

    def _replayed(self, run: Sequence[Buffered], planned: OffsetRange) -> Segment:
        """The segment of a planned range: with its write, when its messages are the ones
        planned (a recreated topic reuses offsets for other messages: those are new)."""
        segment = self._segment(run, planned=True)
        if planned.digest and planned.digest != segment.digest:
            return replace(segment, planned=False)
        return replace(segment, write_id=planned.write_id)

    def _segment(self, run: Sequence[Buffered], *, planned: bool) -> Segment:
        rows: dict[TableName, list[Row]] = {}
        pending: list[tuple[int, Pending]] = []
        for item in run:
            if item.routed is not None:
                rows.setdefault(item.routed.table, []).append(item.routed.row)
            elif item.pending is not None:
                pending.append((item.offset, item.pending))
        return Segment(
            topic=self.topic,
            partition=self.partition,
            first_offset=run[0].offset,
            last_offset=run[-1].offset,
            messages=len(run),
            digest=digest_of(run),
            planned=planned,
            rows=rows,
            pending=tuple(pending),
        )


def _first_at_or_after(items: Sequence[Buffered], start: int, offset: int) -> int:
    """Index of the first item at or after `start` whose offset is >= `offset`."""
    low, high = start, len(items)
    while low < high:
        middle = (low + high) // 2
        if items[middle].offset < offset:
            low = middle + 1
        else:
            high = middle
    return low


# Segments ready to write, with the buffer each was cut from.
Ready = Sequence[tuple[PartitionBuffer, list[Segment]]]
