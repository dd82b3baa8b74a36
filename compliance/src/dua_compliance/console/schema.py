"""The console's own tables (users, sessions, triage, its audit log) and their migrations.

One schema for SQLite and PostgreSQL, written with SQLAlchemy Core. Migrations are numbered
steps recorded in `console_schema_version`; each runs once, in order, in one transaction. The
audit log is append-only in the database itself: triggers refuse every UPDATE and DELETE.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
)

metadata = MetaData()

schema_version = Table(
    "console_schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)
users = Table(
    "console_users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("subject_access", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
)
sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
login_failures = Table(
    "console_login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_name", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
)
issues = Table(
    "console_issues",
    metadata,
    Column("fingerprint", String(32), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("assignee", String(64)),
    Column("reason", Text),
    Column("expires_at", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
issue_history = Table(
    "console_issue_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", String(32), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("from_state", String(16), nullable=False),
    Column("to_state", String(16), nullable=False),
    Column("note", Text, nullable=False, default=""),
)
audit_log = Table(
    "console_audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("row_count", Integer),
)

_SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER console_audit_log_no_update BEFORE UPDATE ON console_audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the console audit log is append-only'); END",
    "CREATE TRIGGER console_audit_log_no_delete BEFORE DELETE ON console_audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the console audit log is append-only'); END",
)
_POSTGRES_APPEND_ONLY = (
    "CREATE FUNCTION console_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'the console audit log is append-only'; END $$",
    "CREATE TRIGGER console_audit_log_no_change BEFORE UPDATE OR DELETE OR TRUNCATE "
    "ON console_audit_log FOR EACH STATEMENT EXECUTE FUNCTION console_audit_log_append_only()",
)


def _v1_tables(connection: Connection) -> None:
    metadata.create_all(
        connection, tables=[t for t in metadata.sorted_tables if t is not schema_version]
    )
    statements = (
        _POSTGRES_APPEND_ONLY if connection.dialect.name == "postgresql" else _SQLITE_APPEND_ONLY
    )
    for statement in statements:
        connection.execute(text(statement))


# version -> step; append new steps, never edit an applied one.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1_tables}


def migrate(connection: Connection) -> list[int]:
    """Apply the steps not yet recorded; return the versions applied now."""
    schema_version.create(connection, checkfirst=True)
    current = connection.execute(select(func.max(schema_version.c.version))).scalar() or 0
    applied = []
    for version in sorted(MIGRATIONS):
        if version > current:
            MIGRATIONS[version](connection)
            connection.execute(
                insert(schema_version).values(version=version, applied_at=datetime.now(UTC))
            )
            applied.append(version)
    return applied
