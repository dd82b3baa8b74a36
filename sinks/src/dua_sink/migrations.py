"""Versioned, idempotent schema migrations, recorded in `schema_migrations`.

Each `migrations/NNN_name.sql` is applied once, in order. Statements are written to be
idempotent (`IF NOT EXISTS`), so a run interrupted half-way is simply run again. The ledger
keeps a checksum of each template: an applied migration edited afterwards is an error, never
a silent divergence between databases. On a cluster (`cluster=`) the same templates are
rendered in their replicated, `ON CLUSTER` form (`dua_sink.cluster_sql`); without one, the
statements are the files' own, byte for byte.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from dua_sink.cluster_sql import on_cluster
from dua_sink.connection import ClickHouseClient
from dua_sink.errors import MigrationError
from dua_sink.retention import apply_retention
from dua_sink.sql_text import (
    check_identifier,
    render,
    split_statements,
    sql_resource,
    sql_resource_names,
)


class _Rows(Protocol):
    @property
    def rows(self) -> Sequence[Sequence[Any]]: ...


class RowReader(Protocol):
    """Anything that answers read queries with rows (the compliance side's `Reader`)."""

    def query(self, sql: str, parameters: Any = None) -> _Rows: ...


_FILE_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    template: str = field(repr=False)

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.template.encode("utf-8")).hexdigest()[:16]

    def statements(
        self, database: str, retention_days: int, cluster: str | None = None
    ) -> list[str]:
        """The rendered statements; on `cluster`, in their replicated `ON CLUSTER` form."""
        statements = split_statements(
            render(self.template, database=database, retention_days=retention_days)
        )
        return statements if cluster is None else on_cluster(statements, cluster)


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    """A row of the ledger."""

    version: int
    name: str
    checksum: str
    applied_at: datetime


@dataclass(frozen=True, slots=True)
class MigrationState:
    """A migration as `dua db status` shows it: applied, pending, or changed since applied."""

    version: int
    name: str
    state: str
    applied_at: datetime | None


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What one `migrate` run did."""

    applied: tuple[Migration, ...]
    retention_updated: tuple[str, ...]


def available_migrations() -> tuple[Migration, ...]:
    """The migrations shipped with this version, in order."""
    found = []
    for file_name in sql_resource_names("migrations"):
        match = _FILE_NAME.match(file_name)
        if match is None:
            raise MigrationError(f"migration file {file_name} is not named NNN_name.sql")
        found.append(
            Migration(int(match.group(1)), match.group(2), sql_resource("migrations", file_name))
        )
    versions = [migration.version for migration in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version: {versions}")
    return tuple(found)


def applied_from_rows(rows: Sequence[Sequence[Any]]) -> list[AppliedMigration]:
    """Ledger rows (version, name, checksum, applied_at) as records."""
    return [AppliedMigration(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]


def compare(
    available: Sequence[Migration], applied: Sequence[AppliedMigration]
) -> list[MigrationState]:
    """Every migration known to the code or the database, with its state."""
    by_version = {row.version: row for row in applied}
    states = []
    for migration in available:
        row = by_version.pop(migration.version, None)
        if row is None:
            states.append(MigrationState(migration.version, migration.name, "pending", None))
        elif row.checksum != migration.checksum:
            states.append(
                MigrationState(migration.version, migration.name, "changed", row.applied_at)
            )
        else:
            states.append(
                MigrationState(migration.version, migration.name, "applied", row.applied_at)
            )
    states.extend(
        MigrationState(row.version, row.name, "unknown", row.applied_at)
        for row in by_version.values()
    )
    return sorted(states, key=lambda state: state.version)


def read_applied(client: ClickHouseClient, database: str) -> list[AppliedMigration]:
    """The ledger; empty when the database or the ledger table does not exist yet."""
    exists = client.command(f"EXISTS TABLE {database}.schema_migrations")
    if int(exists) != 1:
        return []
    sql = render(sql_resource("sql", "applied_migrations.sql"), database=database)
    return applied_from_rows(client.query(sql).result_rows)


def migrate(
    client: ClickHouseClient, database: str, retention_days: int, cluster: str | None = None
) -> MigrationReport:
    """Bring `database` to the newest schema; return what was applied. Safe to run again.

    `cluster`: the ClickHouse cluster (`remote_servers`) every statement runs on.
    """
    available = available_migrations()
    create = f"CREATE DATABASE IF NOT EXISTS {check_identifier(database)}"
    client.command(create if cluster is None else on_cluster([create], cluster)[0])
    # The ledger's own table comes first so that the ledger can be read.
    ledger = available[0]
    for statement in ledger.statements(database, retention_days, cluster):
        client.command(statement)
    states = compare(available, read_applied(client, database))
    problems = [state for state in states if state.state in ("changed", "unknown")]
    if problems:
        raise MigrationError(
            "the database's schema does not match this version of dua:\n  "
            + "\n  ".join(_problem_line(state) for state in problems)
        )
    pending = {state.version for state in states if state.state == "pending"}
    applied = []
    for migration in available:
        if migration.version not in pending:
            continue
        for statement in migration.statements(database, retention_days, cluster):
            client.command(statement)
        client.insert(
            f"{database}.schema_migrations",
            [[migration.version, migration.name, migration.checksum]],
            column_names=["version", "name", "checksum"],
        )
        applied.append(migration)
    updated = apply_retention(client, database, retention_days, cluster)
    return MigrationReport(tuple(applied), tuple(updated))


def pending_migrations(client: ClickHouseClient, database: str) -> list[MigrationState]:
    """Migrations not (correctly) applied; empty when the schema is current."""
    states = compare(available_migrations(), read_applied(client, database))
    return [state for state in states if state.state != "applied"]


def _problem_line(state: MigrationState) -> str:
    if state.state == "changed":
        return (
            f"migration {state.version:03d}_{state.name} was edited after it was applied; "
            "restore it and add a new migration instead"
        )
    return (
        f"migration {state.version:03d}_{state.name} is recorded in the database but unknown "
        "here: this dua is older than the schema"
    )


def migration_status(reader: RowReader, database: str) -> list[MigrationState]:
    """Every migration's state, read through a reader of the audit tables (the sink may run)."""
    present = reader.query(sql_resource("sql", "ledger_exists.sql"), {"database": database})
    if not present.rows or not present.rows[0][0]:
        return compare(available_migrations(), [])
    sql = render(sql_resource("sql", "applied_migrations.sql"), database=database)
    return compare(available_migrations(), applied_from_rows(reader.query(sql).rows))
