"""The console's database on a real PostgreSQL server: migrations, users and logins, triage
with its history, the append-only audit log, and the whole console on top of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DatabaseError

from dua_compliance.console import Accounts, LoginRefused, Role, State, TriageStore, open_engine
from dua_compliance.console.schema import audit_log
from dua_compliance.console.triage import Action, plan_change

from .console_harness import (
    Announced,
    config_for_tests,
    console_engine,
    open_test_reader,
    seed,
    signed_in,
)
from .postgres_server import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
PASSWORD = "a long enough password"


def test_the_schema_migrates_once_and_the_log_is_append_only(postgres_url: str) -> None:
    """Opening twice migrates once; UPDATE, DELETE and TRUNCATE of the log are refused."""
    open_engine(postgres_url).dispose()
    engine = open_engine(postgres_url)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version FROM console_schema_version"))
            assert versions.all() == [(1,)]
        store = TriageStore(engine)
        store.append_audit("ana", "login", {}, now=NOW)
        for statement in (
            update(audit_log).values(actor="x"),
            delete(audit_log),
            text("TRUNCATE console_audit_log"),
        ):
            with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
                connection.execute(statement)
        assert [e.actor for e in store.audit_entries(limit=5)] == ["ana"]
    finally:
        engine.dispose()


def test_users_logins_and_triage(postgres_url: str) -> None:
    """Users log in (and are throttled), and a triage change keeps its history, on PostgreSQL."""
    engine = open_engine(postgres_url)
    try:
        accounts = Accounts(engine)
        accounts.add_user(
            "ana", PASSWORD, Role.ANALYST, subject_access=True, created_by="t", now=NOW
        )
        assert accounts.login("ana", PASSWORD, now=NOW).subject_access
        for _ in range(5):
            with pytest.raises(LoginRefused):
                accounts.login("ana", "wrong", now=NOW)
        with pytest.raises(LoginRefused, match="too many"):
            accounts.login("ana", PASSWORD, now=NOW)
        assert accounts.login("ana", PASSWORD, now=NOW + timedelta(minutes=16)).name == "ana"
        store = TriageStore(engine)
        change = plan_change(
            State.FOR_REVIEW,
            Action.ACCEPT_RISK,
            actor="ana",
            now=NOW,
            reason="'; DROP TABLE console_issues; --",
            expires_at=NOW + timedelta(days=7),
        )
        store.change("fp1", State.FOR_REVIEW, change, actor="ana", note="n", now=NOW)
        triage = store.triage(["fp1"])["fp1"]
        assert (triage.state, triage.reason) == (State.ACCEPTED_RISK, change.reason)
        assert triage.expires_at == change.expires_at
        assert [(h.from_state, h.to_state) for h in store.history("fp1")] == [
            ("for_review", "accepted_risk")
        ]
    finally:
        engine.dispose()


def test_the_console_runs_on_postgresql(
    postgres_url: str, chdb_client: object, clickhouse_dsn: str, clickhouse_database: str
) -> None:
    """The whole console works with PostgreSQL as its database: sign in, triage, read the log."""
    seed(chdb_client, clickhouse_database)
    reader = open_test_reader(clickhouse_dsn, clickhouse_database)
    try:
        with console_engine(postgres_url) as engine:
            from dua_compliance.console import build_app  # noqa: PLC0415

            app = build_app(reader, engine, config_for_tests(Announced([])))
            client, csrf = signed_in(app, "ana")
            fp = client.get("/api/issues").json()[0]["fingerprint"]
            response = client.post(
                f"/api/issues/{fp}/transition",
                json={"action": "acknowledge"},
                headers={"x-csrf-token": csrf},
            )
            assert response.json()["state"] == "acknowledged"
            auditor, _ = signed_in(app, "aud")
            log = auditor.get("/audit-log").text
            assert "triage" in log
            assert "acknowledged" in log
    finally:
        reader.close()
