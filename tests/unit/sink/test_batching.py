"""Per-partition batches are cut into deterministic offset ranges, the unit of dedup and commit."""

from __future__ import annotations

import pytest

from dua_sink import OffsetRange, PartitionBuffer, Segment
from dua_sink.routing import Routed


def _buffer(
    offsets: list[int], plan: list[OffsetRange] | None = None, crc: int = 7
) -> PartitionBuffer:
    buffer = PartitionBuffer("dua.access.tagged", 3)
    for offset in offsets:
        buffer.add(offset, Routed("access_events", (offset,)), crc)
    buffer.plan = [] if plan is None else plan
    return buffer


def _ranges(segments: list[Segment]) -> list[tuple[int, int, bool]]:
    return [(s.first_offset, s.last_offset, s.planned) for s in segments]


def test_new_messages_wait_until_due_unless_a_full_batch_is_there() -> None:
    """Without a plan, a partial batch is cut only when due; full batches of max_rows always."""
    buffer = _buffer(list(range(25)))
    assert _ranges(buffer.cut(10, due=False)) == [(0, 9, False), (10, 19, False)]
    assert _ranges(buffer.cut(10, due=True)) == [(0, 9, False), (10, 19, False), (20, 24, False)]


def test_cut_uses_the_plan_of_an_earlier_run_exactly() -> None:
    """Planned ranges are reproduced as they were, whatever max_rows is now."""
    buffer = _buffer(list(range(100, 130)), [OffsetRange(100, 104), OffsetRange(105, 121)])
    assert _ranges(buffer.cut(3, due=True)) == [
        (100, 104, True),
        (105, 121, True),
        (122, 124, False),
        (125, 127, False),
        (128, 129, False),
    ]


def test_an_incomplete_planned_range_holds_everything_after_it() -> None:
    """Until the planned range's last offset arrives, neither it nor later messages are cut."""
    buffer = _buffer(list(range(10, 16)), [OffsetRange(10, 12), OffsetRange(13, 20)])
    assert _ranges(buffer.cut(100, due=True)) == [(10, 12, True)]


def test_offsets_with_holes_still_complete_a_planned_range() -> None:
    """A later offset past the range's end completes it even if the end offset itself is absent."""
    buffer = _buffer([10, 11, 14, 30], [OffsetRange(10, 15)])
    assert _ranges(buffer.cut(100, due=True)) == [(10, 14, True), (30, 30, False)]


def test_messages_before_the_plan_form_their_own_range() -> None:
    """A gap before the first planned range becomes a new range ending before the plan."""
    buffer = _buffer(list(range(0, 8)), [OffsetRange(5, 7)])
    assert _ranges(buffer.cut(100, due=True)) == [(0, 4, False), (5, 7, True)]


def test_written_forgets_messages_and_plan_up_to_the_segment() -> None:
    """After a segment is stored its messages and plan entries are gone; later ones stay."""
    buffer = _buffer(list(range(10)), [OffsetRange(0, 3), OffsetRange(4, 9)])
    first = buffer.cut(100, due=True)[0]
    buffer.written(first)
    assert [item.offset for item in buffer.items] == list(range(4, 10))
    assert buffer.plan == [OffsetRange(4, 9)]
    assert first.commit_offset == 4


def test_same_range_and_bytes_give_the_same_token() -> None:
    """A redelivered range (same offsets, same payloads) gets the token of the first attempt."""
    first = _buffer(list(range(5))).cut(100, due=True)[0]
    again = _buffer(list(range(5))).cut(100, due=True)[0]
    assert first.token("g") == again.token("g")
    assert first.token("g").startswith("g/dua.access.tagged/3/0-4/")


def test_different_bytes_at_the_same_offsets_give_another_token() -> None:
    """Offsets reused by a recreated topic do not collide with the old range's token."""
    old = _buffer(list(range(5)), crc=1).cut(100, due=True)[0]
    new = _buffer(list(range(5)), crc=2).cut(100, due=True)[0]
    assert old.token("g") != new.token("g")


def test_rows_are_grouped_by_table_in_offset_order() -> None:
    """One segment carries rows for each table its messages map to."""
    buffer = PartitionBuffer("t", 0)
    buffer.add(0, Routed("access_events", ("a",)), 1)
    buffer.add(1, Routed("rejected_events", ("r",), "corrupt_body"), 2)
    buffer.add(2, Routed("access_events", ("b",)), 3)
    buffer.plan = []
    (segment,) = buffer.cut(100, due=True)
    assert segment.rows == {"access_events": [("a",), ("b",)], "rejected_events": [("r",)]}
    assert segment.messages == 3


def test_cut_before_the_plan_is_known_is_a_bug() -> None:
    """The sink must load a partition's plan before cutting it."""
    buffer = PartitionBuffer("t", 0)
    buffer.add(0, Routed("access_events", ()), 0)
    with pytest.raises(RuntimeError, match="plan"):
        buffer.cut(10, due=True)
