"""Violations grouped into issues, joined with their triage; regressions and expiries applied."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from importlib.resources import files

from dua_compliance.console.store import Triage, TriageStore
from dua_compliance.console.triage import Change, State
from dua_compliance.json_compact import QueryResult
from dua_compliance.reader import Reader

SYSTEM_ACTOR = "console"


def console_sql(name: str) -> str:
    """The text of `console/sql/<name>`."""
    return (files("dua_compliance.console") / "sql" / name).read_text(encoding="utf-8")


def fingerprint(rule: str, service: str, purpose: str, destination_kind: str) -> str:
    """The stable id of an issue: what the violations share."""
    key = "\x1f".join((rule, service, purpose, destination_kind))
    return hashlib.sha256(key.encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Issue:
    """Violations sharing a fingerprint, with what people decided about them."""

    fingerprint: str
    rule: str
    service: str
    purpose: str
    destination_kind: str
    severity: str
    violations: int
    subjects: int
    first_seen: datetime
    last_seen: datetime
    last_day: int
    day_before: int
    triage: Triage

    @property
    def trend(self) -> str:
        if self.last_day > self.day_before:
            return "rising"
        if self.last_day < self.day_before:
            return "falling"
        return "steady"


Announce = Callable[[Issue], None]


def load_issues(
    reader: Reader,
    store: TriageStore,
    *,
    since: datetime,
    now: datetime,
    announce: Announce,
) -> list[Issue]:
    """The issues of the window; resolved ones that recurred reopen as regressed (announced),
    accepted risks past their expiry return to review."""
    result = reader.query(console_sql("issues.sql"), {"since": since, "until": now})
    groups = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    keys = {
        fingerprint(g["rule"], g["service"], g["purpose"], g["destination_kind"]): g for g in groups
    }
    decided = store.triage(keys)
    issues = []
    for key, group in keys.items():
        triage = decided.get(key, Triage(State.FOR_REVIEW))
        issue = Issue(fingerprint=key, triage=triage, **group)
        refreshed = _apply_time(issue, store, now)
        if refreshed.triage.state is State.REGRESSED and triage.state is State.RESOLVED:
            announce(refreshed)
        issues.append(refreshed)
    return issues


def _apply_time(issue: Issue, store: TriageStore, now: datetime) -> Issue:
    triage = issue.triage
    change: Change | None = None
    note = ""
    if (
        triage.state is State.RESOLVED
        and triage.resolved_at
        and issue.last_seen > triage.resolved_at
    ):
        change = Change(State.REGRESSED, None, None, None)
        note = f"recurred at {issue.last_seen:%Y-%m-%d %H:%M:%S} UTC after it was resolved"
    elif triage.state is State.ACCEPTED_RISK and triage.expires_at and triage.expires_at <= now:
        change = Change(State.FOR_REVIEW, None, None, None)
        note = f"the accepted risk expired at {triage.expires_at:%Y-%m-%d %H:%M} UTC"
    if change is None:
        return issue
    store.change(issue.fingerprint, triage.state, change, actor=SYSTEM_ACTOR, note=note, now=now)
    return replace(issue, triage=Triage(change.to))


def issue_violations(reader: Reader, issue: Issue, since: datetime) -> QueryResult:
    """The latest violations of one issue."""
    return reader.query(
        console_sql("issue_violations.sql"),
        {
            "rule": issue.rule,
            "service": issue.service,
            "purpose": issue.purpose,
            "destination_kind": issue.destination_kind,
            "since": since,
        },
    )
