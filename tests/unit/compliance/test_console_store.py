"""The console's database on SQLite: migrations, users, sessions, and the append-only log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DatabaseError

from dua_compliance.console import (
    Accounts,
    InvalidInput,
    LoginRefused,
    Role,
    TriageStore,
    open_engine,
)
from dua_compliance.console.schema import audit_log, migrate

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
PASSWORD = "a long enough password"


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A migrated SQLite database in a temporary directory."""
    found = open_engine(f"sqlite:///{tmp_path / 'console.db'}")
    yield found
    found.dispose()


def test_migrations_run_once(engine) -> None:  # type: ignore[no-untyped-def]
    """A second migration run applies nothing; the version table says 1."""
    with engine.begin() as connection:
        assert migrate(connection) == []
        assert connection.execute(text("SELECT version FROM console_schema_version")).all() == [
            (1,)
        ]


def test_the_audit_log_refuses_edits(engine) -> None:  # type: ignore[no-untyped-def]
    """Lines are appended; UPDATE and DELETE are refused by the database itself."""
    store = TriageStore(engine)
    store.append_audit("ana", "search", {"q": 1}, now=NOW, row_count=3)
    for statement in (update(audit_log).values(actor="x"), delete(audit_log)):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(statement)
    assert [(e.actor, e.row_count) for e in store.audit_entries(limit=10)] == [("ana", 3)]


def test_passwords_are_hashed_and_checked(engine) -> None:  # type: ignore[no-untyped-def]
    """The stored password is an argon2id hash; a wrong one is refused."""
    accounts = Accounts(engine)
    accounts.add_user("ana", PASSWORD, Role.ANALYST, subject_access=False, created_by="t", now=NOW)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT password_hash FROM console_users")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert accounts.login("ana", PASSWORD, now=NOW).role is Role.ANALYST
    with pytest.raises(LoginRefused):
        accounts.login("ana", "wrong", now=NOW)
    with pytest.raises(LoginRefused):
        accounts.login("nobody", PASSWORD, now=NOW)


@pytest.mark.parametrize(
    ("name", "password"), [("bad name", PASSWORD), ("ok", "short"), ("<script>", PASSWORD)]
)
def test_bad_user_names_and_short_passwords(engine, name: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """User names are plain identifiers and passwords at least 12 characters."""
    with pytest.raises(InvalidInput):
        Accounts(engine).add_user(
            name, password, Role.AUDITOR, subject_access=False, created_by="t", now=NOW
        )


def test_sessions_expire_and_close(engine) -> None:  # type: ignore[no-untyped-def]
    """A session answers until it expires or is closed; only its hash is stored."""
    accounts = Accounts(engine)
    user = accounts.add_user(
        "aud", PASSWORD, Role.AUDITOR, subject_access=False, created_by="t", now=NOW
    )
    token, csrf = accounts.open_session(user, now=NOW, ttl=timedelta(hours=1))
    assert accounts.session(token, now=NOW) == (user, csrf)
    assert accounts.session(token, now=NOW + timedelta(hours=2)) is None
    with engine.connect() as connection:
        assert token not in str(connection.execute(text("SELECT * FROM console_sessions")).all())
    accounts.close_session(token)
    assert accounts.session(token, now=NOW) is None
