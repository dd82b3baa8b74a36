"""The life of an issue: its states and which change each action makes (pure; no storage)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dua_compliance.console.errors import InvalidInput


class State(StrEnum):
    """Where an issue stands in triage."""

    FOR_REVIEW = "for_review"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    ACCEPTED_RISK = "accepted_risk"
    FALSE_POSITIVE = "false_positive"
    REGRESSED = "regressed"


class Action(StrEnum):
    """What a person can do to an issue."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    ACCEPT_RISK = "accept_risk"
    FALSE_POSITIVE = "false_positive"
    REOPEN = "reopen"


OPEN = frozenset({State.FOR_REVIEW, State.ACKNOWLEDGED, State.REGRESSED})
CLOSED = frozenset({State.RESOLVED, State.ACCEPTED_RISK, State.FALSE_POSITIVE})

_TARGET = {
    Action.ACKNOWLEDGE: State.ACKNOWLEDGED,
    Action.RESOLVE: State.RESOLVED,
    Action.ACCEPT_RISK: State.ACCEPTED_RISK,
    Action.FALSE_POSITIVE: State.FALSE_POSITIVE,
    Action.REOPEN: State.FOR_REVIEW,
}
_FROM = {
    Action.ACKNOWLEDGE: frozenset({State.FOR_REVIEW, State.REGRESSED, State.ACKNOWLEDGED}),
    Action.RESOLVE: OPEN,
    Action.ACCEPT_RISK: OPEN,
    Action.FALSE_POSITIVE: OPEN,
    Action.REOPEN: CLOSED,
}


@dataclass(frozen=True, slots=True)
class Change:
    """One requested change, checked: the new state and what it carries."""

    to: State
    assignee: str | None
    reason: str | None
    expires_at: datetime | None


def plan_change(
    current: State,
    action: Action,
    *,
    actor: str,
    now: datetime,
    assignee: str | None = None,
    reason: str | None = None,
    expires_at: datetime | None = None,
) -> Change:
    """The change `action` makes from `current`; `InvalidInput` says why it cannot."""
    if current not in _FROM[action]:
        raise InvalidInput(f"cannot {action.value.replace('_', ' ')} an issue that is {current}")
    reason = (reason or "").strip() or None
    if action is Action.ACKNOWLEDGE:
        return Change(State.ACKNOWLEDGED, (assignee or "").strip() or actor, None, None)
    if action in (Action.ACCEPT_RISK, Action.FALSE_POSITIVE) and reason is None:
        raise InvalidInput(f"{action.value.replace('_', ' ')} needs a reason")
    if action is Action.ACCEPT_RISK:
        if expires_at is None:
            raise InvalidInput("accepted risk needs an expiry date")
        if expires_at <= now:
            raise InvalidInput("the expiry of an accepted risk must be in the future")
        return Change(State.ACCEPTED_RISK, None, reason, expires_at)
    return Change(_TARGET[action], None, reason, None)
