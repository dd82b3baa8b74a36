"""The console's transactional state: triage of issues, their history, the console's audit log.

SQLite by default (a file in the state directory), PostgreSQL when a URL is configured. Every
statement is built by SQLAlchemy with bound parameters: text typed by users is never SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select, update

from dua_compliance.console.schema import audit_log, issue_history, issues, migrate
from dua_compliance.console.triage import Change, State


@dataclass(frozen=True, slots=True)
class Triage:
    """What people decided about one issue."""

    state: State
    assignee: str | None = None
    reason: str | None = None
    expires_at: datetime | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change of an issue's state: who, when, from, to, and their note."""

    at: datetime
    actor: str
    from_state: str
    to_state: str
    note: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the console's own audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]
    row_count: int | None


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def open_engine(url: str) -> Engine:
    """An engine on `url` with the console's schema migrated to the newest version."""
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    with engine.begin() as connection:
        migrate(connection)
    return engine


class TriageStore:
    """Triage decisions, their history, and the append-only audit log of the console."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def triage(self, fingerprints: Iterable[str]) -> dict[str, Triage]:
        """The stored decision of each issue that has one."""
        wanted = list(fingerprints)
        if not wanted:
            return {}
        with self.engine.connect() as connection:
            rows = connection.execute(select(issues).where(issues.c.fingerprint.in_(wanted)))
            return {
                row.fingerprint: Triage(
                    State(row.state),
                    row.assignee,
                    row.reason,
                    utc(row.expires_at),
                    utc(row.resolved_at),
                )
                for row in rows
            }

    def change(
        self,
        fingerprint: str,
        before: State,
        change: Change,
        *,
        actor: str,
        note: str,
        now: datetime,
    ) -> None:
        """Record the new state and its history line in one transaction."""
        values = {
            "state": change.to.value,
            "assignee": change.assignee,
            "reason": change.reason,
            "expires_at": change.expires_at,
            "resolved_at": now if change.to is State.RESOLVED else None,
            "updated_at": now,
        }
        with self.engine.begin() as connection:
            done = connection.execute(
                update(issues).where(issues.c.fingerprint == fingerprint).values(**values)
            )
            if done.rowcount == 0:
                connection.execute(insert(issues).values(fingerprint=fingerprint, **values))
            connection.execute(
                insert(issue_history).values(
                    fingerprint=fingerprint,
                    at=now,
                    actor=actor,
                    from_state=before.value,
                    to_state=change.to.value,
                    note=note,
                )
            )

    def history(self, fingerprint: str) -> list[HistoryEntry]:
        """Every change of one issue, oldest first."""
        query = (
            select(issue_history)
            .where(issue_history.c.fingerprint == fingerprint)
            .order_by(issue_history.c.id)
        )
        with self.engine.connect() as connection:
            return [
                HistoryEntry(utc(r.at) or r.at, r.actor, r.from_state, r.to_state, r.note)
                for r in connection.execute(query)
            ]

    def append_audit(
        self,
        actor: str,
        action: str,
        detail: Mapping[str, Any],
        *,
        now: datetime,
        row_count: int | None = None,
    ) -> None:
        """Add one line to the console's audit log (which nothing can edit)."""
        with self.engine.begin() as connection:
            connection.execute(
                insert(audit_log).values(
                    at=now,
                    actor=actor,
                    action=action,
                    detail=json.dumps(dict(detail), sort_keys=True, default=str),
                    row_count=row_count,
                )
            )

    def audit_entries(self, *, limit: int, before_id: int | None = None) -> list[AuditEntry]:
        """The newest lines of the audit log (before `before_id` when paging back)."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        with self.engine.connect() as connection:
            return [
                AuditEntry(
                    r.id, utc(r.at) or r.at, r.actor, r.action, json.loads(r.detail), r.row_count
                )
                for r in connection.execute(query)
            ]
