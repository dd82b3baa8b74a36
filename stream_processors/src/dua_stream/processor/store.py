"""`OffsetMemoryStore`: Faust's in-memory table store that knows how far its state goes.

Faust's own in-memory store reports no changelog offsets, so at every assignment a worker
rebuilds the tables of *all* its partitions from the start of their changelogs, the ones it
kept through the rebalance included. This store remembers, per changelog partition, the
offset of the newest record its data reflects: records it applied in recovery, and records
the processor wrote itself once the broker confirmed them (`set_persisted_offset`, called
by the worker with the offsets of a batch's delivery reports). Faust's recovery then reads a
kept partition from there on, and only a partition that moved is read from the start.

The offset may lag behind the data, never run ahead of it: reading again from an older
offset applies records whose values the data already holds (the last record of a key is
its newest value), while an offset past a record the data lacks would lose it. So an offset
is dropped as soon as the data of its partition may be gone or stale (the partition is not
assigned any more), and offsets of our own records are taken only from confirmations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from typing import Any, Final

from faust.stores import STORES, memory
from faust.types import TP

STORE_URL: Final = "dua-memory://"

# Faust finds a store class by the scheme of the store URL.
STORES.aliases["dua-memory"] = f"{__name__}:OffsetMemoryStore"


class OffsetMemoryStore(memory.Store[Any, Any]):
    """In-memory table store with the changelog offsets its data reflects (see the module)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._offsets: dict[TP, int] = {}

    @property
    def entries(self) -> MutableMapping[Any, Any]:
        """The plain dict behind the store (Faust's memory store keeps one for its life).

        `TableState` reads and writes it directly: through the store's `Mapping` methods
        every lookup of an absent key raised and caught a `KeyError` (~1 µs an event)."""
        entries: MutableMapping[Any, Any] = self.data
        return entries

    def persisted_offset(self, tp: TP) -> int | None:
        """The newest changelog offset of `tp` the data reflects (None: read from the start)."""
        return self._offsets.get(tp)

    def set_persisted_offset(self, tp: TP, offset: int) -> None:
        """Advance the offset of `tp` (never backwards: confirmations come in any order)."""
        if offset > self._offsets.get(tp, -1):
            self._offsets[tp] = offset

    def apply_changelog_batch(
        self,
        batch: Iterable[Any],
        to_key: Callable[[Any], Any],
        to_value: Callable[[Any], Any],
    ) -> None:
        events = list(batch)  # read twice
        super().apply_changelog_batch(events, to_key, to_value)
        for event in events:
            message = event.message
            self.set_persisted_offset(message.tp, message.offset)

    async def on_rebalance(
        self,
        assigned: set[TP],
        revoked: set[TP],
        newly_assigned: set[TP],
        generation_id: int = 0,
    ) -> None:
        # Before recovery asks for offsets: keep only those of partitions still assigned. A
        # partition given away may come back later, with other workers' records in between
        # and its entries forgotten (TableState.retain, after this rebalance): it must then
        # be read from the start.
        await super().on_rebalance(assigned, revoked, newly_assigned, generation_id)
        kept = {tp.partition for tp in assigned}
        for tp in [tp for tp in self._offsets if tp.partition not in kept]:
            del self._offsets[tp]
