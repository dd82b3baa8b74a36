"""`BatchingConsumer.ack_batch`: Faust's per-message `ack` bookkeeping, a batch at a time."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from faust.types import TP

from dua_stream.processor.consumer import BatchingConsumer

from .conftest import Message


class _Books:
    """The attributes of Faust's consumer that `ack` keeps (no broker, no app)."""

    def __init__(self, committed: dict[TP, int | None]) -> None:
        self._committed_offset: defaultdict[TP, int | None] = defaultdict(lambda: None)
        self._committed_offset.update(committed)
        self._acked: defaultdict[TP, list[int]] = defaultdict(list)
        self._acked_index: defaultdict[TP, set[int]] = defaultdict(set)
        self._n_acked = 0
        self._waiting_for_ack: Any = None


def _records(*positions: tuple[int, int]) -> list[Message]:
    return [Message("raw", partition, offset, None, b"") for partition, offset in positions]


def test_ack_batch_keeps_the_books_as_one_ack_per_message_would() -> None:
    """Runs of one partition, a partition seen twice in a fetch, offsets below the committed
    one and offsets acknowledged before: each counts as Faust's `ack` counts it."""
    p0, p1 = TP("raw", 0), TP("raw", 1)
    books = _Books({p1: 4})
    books._acked_index[p0].add(5)  # acknowledged by an earlier batch
    books._acked[p0].append(5)
    batch = _records((0, 5), (0, 6), (1, 3), (1, 4), (0, 7), (1, 5), (1, 5))
    BatchingConsumer.ack_batch(books, batch)  # type: ignore[arg-type]
    assert books._acked == {p0: [5, 6, 7], p1: [4, 5]}
    assert books._acked_index == {p0: {5, 6, 7}, p1: {4, 5}}
    assert books._n_acked == 4  # 6, 7, 4, 5: not 5 again, not 3 (below the committed 4)
    BatchingConsumer.ack_batch(books, batch)  # type: ignore[arg-type]
    assert books._n_acked == 4  # all known now
