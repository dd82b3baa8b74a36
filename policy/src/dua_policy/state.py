"""Where stateful rules keep what they remember between events.

The engine owns the keys; every key belongs to one subject, so a processor whose input topic
is keyed by subject keeps each subject's state on the partition that sees its events:

- `consent:<subject_id>`: the subject's consent history: its newest ConsentChange,
  `{"occurred_at": <epoch ms>, "targeting_opt_out": bool, "publication_consent": bool,
  "payroll_other_use_consent": bool}`, with the older
  changes of the retention window, oldest first, under `"history"` (absent with one change).
- `reid:<subject_id>`: per actor (`<actor kind>:<actor id>`), the latest times (epoch ms) it
  touched linkable or identifying elements of the subject, when a finding was last made and
  by which access: `{"<actor>": {"linkable_at": int, "identifying_at": int, "fired_at": int,
  "fired_by": "<event_id>"}}` (keys optional).
  When a subject has entries for more than a few actors, those older than the
  re-identification window are dropped (they can no longer complete a pattern).

Values are JSON-serializable dicts; time is the events' `occurred_at`, never a wall clock.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

CONSENT_PREFIX: Final = "consent:"
REIDENTIFICATION_PREFIX: Final = "reid:"


class RuleState(Protocol):
    """A key-value store of JSON-serializable dicts (a Faust table, or a dict)."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any]) -> None: ...


class MemoryState:
    """`RuleState` in a dict: for the CLI, tests and benchmarks."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        return self.values.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.values[key] = value


def consent_key(subject_id: str) -> str:
    """The key of a subject's latest consent change."""
    return CONSENT_PREFIX + subject_id


def reidentification_key(subject_id: str) -> str:
    """The key of a subject's re-identification window entries."""
    return REIDENTIFICATION_PREFIX + subject_id
