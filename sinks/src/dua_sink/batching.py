"""Per-partition batches cut into deterministic offset ranges (pure logic, no I/O).

A `PartitionBuffer` holds the messages read from one partition and not yet written. `cut`
turns them into `Segment`s — the units that are written with one deduplication token and then
committed. Ranges recorded by an earlier run (the *plan*) are reproduced exactly, so a range
redelivered after a crash carries the same token as before and ClickHouse drops it; anything
after the plan is cut fresh, at most `max_rows` messages per segment.
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
    """An inclusive range of offsets of one partition."""

    first: int
    last: int


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
            segments.append(self._segment(items[index:end], planned=True))
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
