"""Violations of one rule and service within the window form one group."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dua_stream.notifier import Grouper, GroupKey, Position
from dua_stream.notifier.grouping import MAX_SAMPLES
from dua_stream.notifier.testing import ManualClock

Make = Callable[..., dict[str, Any]]


def _at(offset: int, partition: int = 0) -> Position:
    return Position("dua.violations", partition, offset)


def test_burst_becomes_one_group_due_after_the_window(clock: ManualClock, violation: Make) -> None:
    """Fifty violations of one rule and service in the window are one group, due at its end."""
    grouper = Grouper(30.0, clock)
    for offset in range(50):
        grouper.add(_at(offset), violation())
        clock.advance(0.1)
    assert len(grouper) == 1
    assert grouper.due() == []
    clock.advance(30.0 - 5.0 + 0.01)
    (group,) = grouper.due()
    assert group.key == GroupKey("payroll_data_misuse", "rikunabi")
    assert group.count == 50
    assert len(group.samples) == MAX_SAMPLES
    assert len(group.positions) == 50
    assert group.first_detected is not None
    assert group.last_detected is not None
    assert group.first_detected < group.last_detected


def test_rule_and_service_separate_groups(clock: ManualClock, violation: Make) -> None:
    """Another rule or another service opens its own group."""
    grouper = Grouper(30.0, clock)
    grouper.add(_at(0), violation())
    grouper.add(_at(1), violation(service="jalan"))
    grouper.add(_at(2), violation(rule="employer_disclosure"))
    grouper.add(_at(3), violation())
    assert len(grouper) == 3
    assert grouper.pending == 4


def test_redelivered_violation_is_not_counted_twice(clock: ManualClock, violation: Make) -> None:
    """The same violation_id read twice counts once but both offsets wait for the post."""
    grouper = Grouper(30.0, clock)
    record = violation()
    assert grouper.add(_at(0), record) is True
    assert grouper.add(_at(1), dict(record)) is False
    (group,) = grouper.due(force=True)
    assert group.count == 1
    assert group.positions == [_at(0), _at(1)]


def test_due_groups_come_worst_first(clock: ManualClock, violation: Make) -> None:
    """When several groups are due, the critical one is first even if opened later."""
    grouper = Grouper(10.0, clock)
    grouper.add(_at(0), violation(rule="unclassified_element", severity="low"))
    clock.advance(1)
    grouper.add(_at(1), violation(rule="third_party_sharing", severity="high"))
    clock.advance(1)
    grouper.add(_at(2), violation())
    clock.advance(10)
    assert [g.severity for g in grouper.due()] == ["critical", "high", "low"]


def test_group_takes_the_worst_severity_seen(clock: ManualClock, violation: Make) -> None:
    """A rule whose severity rises mid-window is reported with the higher one."""
    grouper = Grouper(10.0, clock)
    grouper.add(_at(0), violation(severity="high", policy_version="1"))
    grouper.add(_at(1), violation(severity="critical", policy_version="2"))
    (group,) = grouper.due(force=True)
    assert group.severity == "critical"
    assert group.policy_versions == {"1", "2"}


def test_postponed_group_waits_and_keeps_collecting(clock: ManualClock, violation: Make) -> None:
    """A postponed group is not due until its new time and still takes new members."""
    grouper = Grouper(5.0, clock)
    grouper.add(_at(0), violation())
    clock.advance(5)
    (group,) = grouper.due()
    grouper.postpone(group, 20.0)
    grouper.add(_at(1), violation())
    clock.advance(19)
    assert grouper.due() == []
    assert grouper.next_due_in() == 1.0
    clock.advance(1)
    assert grouper.due()[0].count == 2
