"""Commits never pass a record whose message is not yet posted."""

from __future__ import annotations

from dua_stream.notifier import OffsetLedger, Position

TOPIC = "dua.violations"


def _p(offset: int, partition: int = 0) -> Position:
    return Position(TOPIC, partition, offset)


def test_commit_stops_at_the_oldest_unsettled_record() -> None:
    """With offsets 0..4 read and 0, 1, 3 settled, the commit position is 2."""
    ledger = OffsetLedger()
    for offset in range(5):
        ledger.read(_p(offset))
    ledger.settle([_p(0), _p(1), _p(3)])
    assert ledger.committable() == {(TOPIC, 0): 2}


def test_everything_settled_commits_past_the_last_record() -> None:
    """When every record is settled the position is one past the highest offset."""
    ledger = OffsetLedger()
    for offset in (10, 11, 12):
        ledger.read(_p(offset))
    ledger.settle([_p(12), _p(10), _p(11)])
    assert ledger.committable() == {(TOPIC, 0): 13}


def test_nothing_moves_until_the_first_record_settles() -> None:
    """A pending first record holds the partition at its own offset, then moves once settled."""
    ledger = OffsetLedger()
    ledger.read(_p(7))
    ledger.read(_p(8))
    ledger.settle([_p(8)])
    moves = ledger.committable()
    assert moves == {(TOPIC, 0): 7}
    ledger.committed(moves)
    assert ledger.committable() == {}
    ledger.settle([_p(7)])
    assert ledger.committable() == {(TOPIC, 0): 9}


def test_partitions_are_independent_and_forgettable() -> None:
    """A waiting record on one partition does not hold another; a revoked one is dropped."""
    ledger = OffsetLedger()
    ledger.read(_p(0, partition=0))
    ledger.read(_p(0, partition=1))
    ledger.settle([_p(0, partition=1)])
    assert ledger.committable() == {(TOPIC, 0): 0, (TOPIC, 1): 1}
    ledger.forget([(TOPIC, 0)])
    ledger.settle([_p(0, partition=0)])
    assert ledger.committable() == {(TOPIC, 1): 1}
