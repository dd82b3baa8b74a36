"""The policy as loaded: frozen values, no behaviour beyond lookups.

A `Condition` is a tree of predicates combined with `All`, `Any_` and `Not`; its meaning is
given by `compiler.py`. The tree is kept as data so it can be shown, compared and hashed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from dua_policy.recipients import Recipient
from dua_policy.record_counts import RecordCountThresholds

DATA_CATEGORY_CODES: Final = ("personal", "informative")
SENSITIVITIES: Final = ("normal", "high", "special")
RULE_KINDS: Final = ("match", "opted_out", "consent_missing", "reidentification")


@dataclass(frozen=True, slots=True)
class Predicate:
    """One predicate of the fixed vocabulary (`vocabulary.py`) with its argument."""

    name: str
    argument: Any  # a bool, a str, a frozenset of str, or a Condition (any_element)


@dataclass(frozen=True, slots=True)
class All:
    """True when every item is true (true when empty)."""

    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Any_:  # noqa: N801 - `Any` is typing's; the trailing underscore keeps the YAML word
    """True when some item is true (false when empty)."""

    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """True when its item is false."""

    item: Condition


Condition = Predicate | All | Any_ | Not


@dataclass(frozen=True, slots=True)
class Label:
    """A name in Japanese (as published) and in English."""

    ja: str
    en: str


@dataclass(frozen=True, slots=True)
class Element:
    """A data element of the catalog (a leaf of the element tree)."""

    code: str
    category: str  # one of DATA_CATEGORY_CODES
    sensitivity: str  # one of SENSITIVITIES
    label: Label


@dataclass(frozen=True, slots=True)
class Purpose:
    """A published purpose and the elements it may use (resolved to catalog leaves)."""

    code: str
    category: str  # the part before the dot
    label: Label
    permitted: frozenset[str]
    permits_all: bool  # `permitted: all`: every element, even ones the catalog lacks
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule: when `when` holds and `select` picks elements (if given), a finding is made."""

    id: str
    kind: str  # one of RULE_KINDS
    severity: str
    mode: str
    message: str  # a template; see messages.py for the placeholders
    when: Condition | None
    select: Condition | None
    params: dict[str, Any] = field(default_factory=dict)
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated policy. `version` is the declared version plus a short content hash."""

    version: str
    declared_version: str
    content_hash: str
    source: str
    data_categories: dict[str, Label]
    purpose_categories: dict[str, Label]
    elements: tuple[Element, ...]
    purposes: tuple[Purpose, ...]
    cross_use_scope: frozenset[str]
    payroll_service: str
    reidentification_window: timedelta
    rules: tuple[Rule, ...]
    recipients: tuple[Recipient, ...] = ()
    record_count_thresholds: RecordCountThresholds = field(default_factory=RecordCountThresholds)

    def recipient(self, kind: str, name: str | None) -> Recipient | None:
        """The recipient declared for this destination kind and name, or None."""
        if name is None:
            return None
        return next((r for r in self.recipients if r.kind == kind and r.name == name), None)

    def element(self, code: str) -> Element | None:
        """The catalog element with this code, or None."""
        return next((e for e in self.elements if e.code == code), None)

    def purpose(self, code: str) -> Purpose | None:
        """The purpose with this code, or None."""
        return next((p for p in self.purposes if p.code == code), None)

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, or None."""
        return next((r for r in self.rules if r.id == rule_id), None)
