"""After a crash a write is sent again whole only with all its ranges at hand; a range still to
be read here is waited for, one that will not come here leaves the rest range by range."""

from __future__ import annotations

from dua_sink import PartitionBuffer, Segment
from dua_sink.batching import Member, Ready
from dua_sink.replays import plan_replays

TOPIC = "dua.access.tagged"


def _segment(partition: int, first: int, last: int, write_id: str = "") -> Segment:
    return Segment(
        topic=TOPIC,
        partition=partition,
        first_offset=first,
        last_offset=last,
        messages=last - first + 1,
        digest="d",
        planned=bool(write_id),
        rows={},
        write_id=write_id,
    )


def _ready(*segments: Segment) -> Ready:
    return [(PartitionBuffer(TOPIC, s.partition), [s]) for s in segments]


def _partitions(ready: Ready) -> list[int]:
    return [buffer.partition for buffer, _ in ready]


W1: frozenset[Member] = frozenset({(TOPIC, 0, 0, 9), (TOPIC, 1, 0, 4)})


def test_a_write_with_all_its_ranges_at_hand_goes_whole() -> None:
    ready = _ready(_segment(0, 0, 9, "w1"), _segment(1, 0, 4, "w1"), _segment(2, 0, 3))
    kept, whole = plan_replays(ready, {"w1": W1}, lambda _: True, lambda _: False)
    assert whole == {"w1"}
    assert _partitions(kept) == [0, 1, 2]


def test_a_range_still_to_be_read_here_holds_its_write_s_partitions() -> None:
    """Partition 1's range of w1 may still arrive: partitions 0 and 1 wait, 2 goes on."""
    ready = _ready(_segment(0, 0, 9, "w1"), _segment(2, 0, 3))
    kept, whole = plan_replays(ready, {"w1": W1}, lambda _: True, lambda _: False)
    assert whole == frozenset()
    assert _partitions(kept) == [2]


def test_a_range_that_will_not_come_here_leaves_the_rest_range_by_range() -> None:
    """Partition 1 is another sink's now (or read past that range): w1's range of partition 0
    is written now, not whole."""
    ready = _ready(_segment(0, 0, 9, "w1"))
    kept, whole = plan_replays(ready, {"w1": W1}, lambda _: False, lambda _: False)
    assert (whole, _partitions(kept)) == (frozenset(), [0])


def test_a_write_waits_no_longer_than_its_bound() -> None:
    ready = _ready(_segment(0, 0, 9, "w1"))
    kept, whole = plan_replays(ready, {"w1": W1}, lambda _: True, lambda _: True)
    assert (whole, _partitions(kept)) == (frozenset(), [0])


def test_new_segments_and_old_plans_pass_as_they_are() -> None:
    """No write id (new, or planned before migration 007): nothing to decide."""
    old = Segment(TOPIC, 0, 0, 9, 10, "d", planned=True, rows={})
    ready = _ready(old, _segment(1, 0, 4))
    kept, whole = plan_replays(ready, {}, lambda _: True, lambda _: False)
    assert (whole, _partitions(kept)) == (frozenset(), [0, 1])


def test_a_write_whose_plan_lists_nothing_is_not_sent_whole() -> None:
    """Its plan rows were replaced (another run planned those offsets again): range by range."""
    ready = _ready(_segment(0, 0, 9, "w1"))
    kept, whole = plan_replays(ready, {"w1": frozenset()}, lambda _: True, lambda _: False)
    assert (whole, _partitions(kept)) == (frozenset(), [0])
