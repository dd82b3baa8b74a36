"""How two verdicts on the same event differ: which rules one raises and the other does not."""

from __future__ import annotations

from dataclasses import dataclass

from dua_policy.verdict import Verdict


@dataclass(frozen=True, slots=True)
class VerdictChange:
    """The difference between the old and the new verdict on one event."""

    event_id: str
    added: tuple[str, ...]  # rules only the new policy raises
    removed: tuple[str, ...]  # rules only the old policy raised
    changed: tuple[str, ...]  # raised by both, with another severity, mode or elements

    def describe(self) -> str:
        """`<event id>: +rule_a -rule_b ~rule_c`."""
        parts = [f"+{r}" for r in self.added] + [f"-{r}" for r in self.removed]
        parts += [f"~{r}" for r in self.changed]
        return f"{self.event_id}: {' '.join(parts)}"


def compare_verdicts(old: Verdict, new: Verdict) -> VerdictChange | None:
    """The change between two verdicts on one event, or None when they raise the same."""
    before = {f.rule: (f.severity, f.mode, f.elements) for f in old.violations}
    after = {f.rule: (f.severity, f.mode, f.elements) for f in new.violations}
    added = tuple(sorted(set(after) - set(before)))
    removed = tuple(sorted(set(before) - set(after)))
    changed = tuple(sorted(r for r in set(before) & set(after) if before[r] != after[r]))
    if not (added or removed or changed):
        return None
    return VerdictChange(new.event["event_id"], added, removed, changed)
