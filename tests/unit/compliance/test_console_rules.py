"""The console's pure parts: the life of an issue, who may grant what, the explorer's filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dua_compliance.console import InvalidInput, Permission, Role, State, User
from dua_compliance.console.filters import parse_filter
from dua_compliance.console.triage import Action, plan_change

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_acknowledging_assigns_the_actor_unless_someone_is_named() -> None:
    """Acknowledge assigns the issue: to the named person, else to whoever acknowledged it."""
    assert plan_change(State.FOR_REVIEW, Action.ACKNOWLEDGE, actor="ana", now=NOW).assignee == "ana"
    named = plan_change(State.REGRESSED, Action.ACKNOWLEDGE, actor="ana", now=NOW, assignee="bo")
    assert (named.to, named.assignee) == (State.ACKNOWLEDGED, "bo")


@pytest.mark.parametrize(
    ("state", "action", "extra", "message"),
    [
        (State.RESOLVED, Action.RESOLVE, {}, "cannot resolve an issue that is resolved"),
        (State.FOR_REVIEW, Action.REOPEN, {}, "cannot reopen"),
        (State.FOR_REVIEW, Action.FALSE_POSITIVE, {"reason": "  "}, "needs a reason"),
        (State.FOR_REVIEW, Action.ACCEPT_RISK, {"reason": "r"}, "needs an expiry"),
        (
            State.FOR_REVIEW,
            Action.ACCEPT_RISK,
            {"reason": "r", "expires_at": NOW - timedelta(seconds=1)},
            "must be in the future",
        ),
    ],
)
def test_refused_changes_say_why(
    state: State, action: Action, extra: dict[str, object], message: str
) -> None:
    """A change that the state or its missing fields forbid raises `InvalidInput`."""
    with pytest.raises(InvalidInput, match=message):
        plan_change(state, action, actor="ana", now=NOW, **extra)  # type: ignore[arg-type]


def test_closed_issues_reopen_for_review() -> None:
    """Resolved, accepted and false-positive issues can be reopened."""
    for state in (State.RESOLVED, State.ACCEPTED_RISK, State.FALSE_POSITIVE):
        assert plan_change(state, Action.REOPEN, actor="a", now=NOW).to is State.FOR_REVIEW


def test_roles_and_grants() -> None:
    """Auditors read and read the log; nobody grants a role or permission above their own."""
    auditor = User("aud", Role.AUDITOR, subject_access=False)
    admin = User("adm", Role.ADMIN, subject_access=False)
    assert auditor.can(Permission.READ_AUDIT_LOG)
    assert not auditor.can(Permission.TRIAGE)
    assert not User("ana", Role.ANALYST, subject_access=False).can(Permission.READ_AUDIT_LOG)
    assert admin.may_grant(Role.ADMIN, subject_access=False)
    assert not admin.may_grant(Role.AUDITOR, subject_access=True)
    assert not auditor.may_grant(Role.AUDITOR, subject_access=False)


def test_a_filter_becomes_parameters_never_sql_text() -> None:
    """Values travel as array parameters; the SQL holds only fixed fragments."""
    audit_filter = parse_filter(
        {"service": ["jalan", "x' OR 1=1"], "exclude_rule": ["bulk_access"], "since": ["7d"]},
        now=NOW,
    )
    condition, parameters = audit_filter.where()
    assert "jalan" not in condition
    assert "OR 1=1" not in condition
    assert parameters["f_service"] == ["jalan", "x' OR 1=1"]
    assert parameters["x_rule"] == ["bulk_access"]
    assert parameters["since"] == NOW - timedelta(days=7)
    assert "NOT hasAny(violation_rules, {x_rule:Array(String)})" in condition


def test_a_filter_round_trips_through_its_url() -> None:
    """The query string a filter writes reads back as the same filter (shareable links)."""
    first = parse_filter(
        {"element": ["user.name"], "exclude_service": ["jalan"], "until": ["2026-05-01T00:00"]},
        now=NOW,
    )
    from urllib.parse import parse_qs  # noqa: PLC0415

    again = parse_filter(parse_qs(first.query_string()), now=NOW)
    assert again == first
