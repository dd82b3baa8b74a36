"""Which offsets may be committed: everything below the oldest record still waiting.

A record is *settled* once its message was posted or it was deliberately skipped (shadow,
below threshold, undecodable, rejected by the webhook). Kafka commits are a single position per
partition, so the committable position is the lowest unsettled offset — or one past the
highest record seen when none waits.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from dua_stream.notifier.grouping import Position

TopicPartition = tuple[str, int]


@dataclass(slots=True)
class _PartitionLedger:
    next_offset: int = -1  # one past the highest offset seen; -1 before any
    waiting: list[int] = field(default_factory=list)  # heap of unsettled offsets
    settled_early: set[int] = field(default_factory=set)  # settled, but not the heap's top yet
    committed: int = -1

    def position(self) -> int:
        while self.waiting and self.waiting[0] in self.settled_early:
            self.settled_early.discard(heapq.heappop(self.waiting))
        return self.waiting[0] if self.waiting else self.next_offset


class OffsetLedger:
    """Tracks read and settled records per partition; says what to commit next."""

    __slots__ = ("_partitions",)

    def __init__(self) -> None:
        self._partitions: dict[TopicPartition, _PartitionLedger] = {}

    def read(self, position: Position) -> None:
        """A record was handed to the notifier; it waits until `settle`."""
        ledger = self._partitions.setdefault(
            (position.topic, position.partition), _PartitionLedger()
        )
        heapq.heappush(ledger.waiting, position.offset)
        ledger.next_offset = max(ledger.next_offset, position.offset + 1)

    def settle(self, positions: Iterable[Position]) -> None:
        """Records posted or deliberately skipped; those of forgotten partitions are ignored."""
        for position in positions:
            ledger = self._partitions.get((position.topic, position.partition))
            if ledger is not None:
                ledger.settled_early.add(position.offset)

    def committable(self) -> dict[TopicPartition, int]:
        """Positions to commit now: per partition, only when they moved since the last commit."""
        moves: dict[TopicPartition, int] = {}
        for key, ledger in self._partitions.items():
            position = ledger.position()
            if position > ledger.committed:
                moves[key] = position
        return moves

    def committed(self, positions: dict[TopicPartition, int]) -> None:
        """Record that Kafka accepted these commits."""
        for key, position in positions.items():
            ledger = self._partitions.get(key)
            if ledger is not None:
                ledger.committed = max(ledger.committed, position)

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Partitions taken away by a rebalance: their unsettled records will be redelivered."""
        for key in partitions:
            self._partitions.pop(key, None)
