"""`dua policy backtest`: what a candidate policy would have found on the stored events.

Every access event stored in ClickHouse since a point in time is classified again under the
candidate policy (in time order, with fresh stateful memory) and its findings are compared,
rule by rule, with the findings stored for it: a *new* finding fires only under the
candidate, a *vanished* one fired then and does not now. Limitation: consent learned from the
consent stream is not in ClickHouse, so only the consent flags carried on the events count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dua_compliance.event_replay import StoredEvent
from dua_policy import Engine, MemoryState, Policy

SAMPLES = 3


@dataclass(frozen=True, slots=True)
class FindingChange:
    """Findings of one rule at one service that appear (or disappear) under the candidate."""

    rule: str
    service: str
    events: int
    samples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """The comparison over all replayed events."""

    events: int
    policy_version: str
    unchanged: int
    new: tuple[FindingChange, ...]
    vanished: tuple[FindingChange, ...]


class _Tally:
    __slots__ = ("counts", "samples")

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.samples: dict[tuple[str, str], list[str]] = {}

    def add(self, rule: str, service: str, event_id: str) -> None:
        key = (rule, service)
        self.counts[key] = self.counts.get(key, 0) + 1
        kept = self.samples.setdefault(key, [])
        if len(kept) < SAMPLES:
            kept.append(event_id)

    def changes(self) -> tuple[FindingChange, ...]:
        ordered = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
        return tuple(
            FindingChange(rule, service, count, tuple(self.samples[(rule, service)]))
            for (rule, service), count in ordered
        )


def backtest(stored: Iterable[StoredEvent], policy: Policy) -> BacktestResult:
    """Classify `stored` (oldest first) under `policy` and compare with what was found then."""
    engine = Engine(policy)
    state = MemoryState()
    new, vanished = _Tally(), _Tally()
    events = unchanged = 0
    for item in stored:
        events += 1
        verdict = engine.classify(item.event, state)
        now = {finding.rule for finding in verdict.violations}
        service, event_id = item.event["service"], item.event["event_id"]
        for rule in now - item.stored_rules:
            new.add(rule, service, event_id)
        for rule in item.stored_rules - now:
            vanished.add(rule, service, event_id)
        unchanged += len(now & item.stored_rules)
    return BacktestResult(events, policy.version, unchanged, new.changes(), vanished.changes())


def render_backtest(result: BacktestResult) -> str:
    """The comparison as text: totals, then new and vanished findings by rule and service."""
    lines = [
        f"replayed {result.events} stored events under policy {result.policy_version}: "
        f"{result.unchanged} findings unchanged, "
        f"{sum(c.events for c in result.new)} new, "
        f"{sum(c.events for c in result.vanished)} vanished",
    ]
    for title, changes in (("new findings", result.new), ("vanished findings", result.vanished)):
        lines.append("")
        lines.append(f"{title}:" if changes else f"{title}: none")
        for change in changes:
            lines.append(
                f"  {change.events:>7}  {change.rule:<38} {change.service:<20} "
                f"e.g. {', '.join(change.samples)}"
            )
    return "\n".join(lines) + "\n"
