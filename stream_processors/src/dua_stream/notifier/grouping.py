"""Group violations by (rule, service) within a time window, so a burst becomes one message.

The first violation of a key opens a group that is *due* `window_s` seconds later; every
violation of the same key arriving before the group is posted joins it. A severe enough
violation (`NotifierConfig.immediate_severity`, critical by default) opening a key's first
group in a window makes it due at once instead: the webhook hears of it within the pipeline's
latency, and what follows in the window still becomes one message. Each group remembers
the Kafka positions of its members: their offsets may be committed only once it is posted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, NamedTuple

from dua_stream.notifier.triage import SEVERITY_RANK

Clock = Callable[[], float]

# Members shown in a message; the rest are counted, not listed.
MAX_SAMPLES: Final = 5


class Position(NamedTuple):
    """Where a record was read: Kafka's coordinates of one message."""

    topic: str
    partition: int
    offset: int


class GroupKey(NamedTuple):
    rule: str
    service: str


@dataclass(slots=True)
class ViolationGroup:
    """Violations of one rule in one service, waiting to be posted together."""

    key: GroupKey
    severity: str
    opened_at: float
    due_at: float
    count: int = 0
    first_detected: datetime | None = None
    last_detected: datetime | None = None
    policy_versions: set[str] = field(default_factory=set)
    samples: list[Mapping[str, Any]] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    violation_ids: set[str] = field(default_factory=set)
    held_back: bool = False  # waited for a slot of the rate limit at least once

    def add(self, position: Position, violation: Mapping[str, Any]) -> bool:
        """Add a member; False when its violation_id is already in the group (a redelivery)."""
        self.positions.append(position)
        violation_id = violation["violation_id"]
        if violation_id in self.violation_ids:
            return False
        self.violation_ids.add(violation_id)
        self.count += 1
        # A policy change may raise a rule's severity mid-window: the message shows the worst.
        if SEVERITY_RANK.get(violation["severity"], 0) > SEVERITY_RANK.get(self.severity, 0):
            self.severity = violation["severity"]
        detected: datetime = violation["detected_at"]
        if self.first_detected is None or detected < self.first_detected:
            self.first_detected = detected
        if self.last_detected is None or detected > self.last_detected:
            self.last_detected = detected
        self.policy_versions.add(violation["policy_version"])
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(violation)
        return True


class Grouper:
    """Open groups by key; `due()` lists those whose window has passed, worst first.

    With `immediate_rank`, a violation of at least that severity rank whose key opened no
    immediate group within the window opens one that is due at once: the first of a burst is
    posted without waiting, and what follows within the window is grouped as usual.
    """

    __slots__ = ("_clock", "_groups", "_immediate_rank", "_leading", "window_s")

    def __init__(self, window_s: float, clock: Clock, *, immediate_rank: int | None = None) -> None:
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        self.window_s = window_s
        self._clock = clock
        self._immediate_rank = immediate_rank
        self._groups: dict[GroupKey, ViolationGroup] = {}
        # When each key last opened a group due at once (kept for one window).
        self._leading: dict[GroupKey, float] = {}

    def add(self, position: Position, violation: Mapping[str, Any]) -> bool:
        """Put a violation in its group (opening one if needed); False for a duplicate."""
        key = GroupKey(violation["rule"], violation["service"])
        group = self._groups.get(key)
        if group is None:
            now = self._clock()
            due = now if self._leads(key, violation["severity"], now) else now + self.window_s
            group = ViolationGroup(key, violation["severity"], now, due)
            self._groups[key] = group
        return group.add(position, violation)

    def _leads(self, key: GroupKey, severity: str, now: float) -> bool:
        """Whether a new group of `key` is due at once (and then remember that it was)."""
        if self._immediate_rank is None or SEVERITY_RANK.get(severity, 0) < self._immediate_rank:
            return False
        self._leading = {k: t for k, t in self._leading.items() if now - t < self.window_s}
        if key in self._leading:
            return False
        self._leading[key] = now
        return True

    def due(self, *, force: bool = False) -> list[ViolationGroup]:
        """Groups whose window has passed (every group when `force`), most severe first."""
        now = self._clock()
        ready = [g for g in self._groups.values() if force or g.due_at <= now]
        ready.sort(key=lambda g: (-SEVERITY_RANK.get(g.severity, 0), g.due_at))
        return ready

    def remove(self, group: ViolationGroup) -> None:
        """Forget a group once it is posted or deliberately dropped."""
        del self._groups[group.key]

    def postpone(self, group: ViolationGroup, seconds: float) -> None:
        """Try a group again later (its webhook was unavailable); it keeps collecting members."""
        group.due_at = self._clock() + seconds

    def next_due_in(self) -> float | None:
        """Seconds until the earliest group is due (0 if one is), None when nothing is open."""
        if not self._groups:
            return None
        return max(0.0, min(g.due_at for g in self._groups.values()) - self._clock())

    def __len__(self) -> int:
        return len(self._groups)

    def __iter__(self) -> Iterator[ViolationGroup]:
        return iter(list(self._groups.values()))

    @property
    def pending(self) -> int:
        """Records held in open groups, duplicates included: each one's offset waits."""
        return sum(len(g.positions) for g in self._groups.values())
