"""Migrations are versioned, recorded, idempotent, and keep retention in step with settings."""

from __future__ import annotations

from typing import Any

import pytest

from dua_sink import MigrationError, available_migrations, migrate, pending_migrations

pytestmark = pytest.mark.integration  # runs on the real engine (chDB)

EXPECTED_TABLES = {
    "schema_migrations",
    "access_events",
    "violations",
    "rejected_events",
    "sink_batches",
    "access_events_unique",
    "violations_unique",
    "access_hourly",
    "access_hourly_mv",
    "violations_daily",
    "violations_daily_mv",
    "backfill_cutoffs",
    "datamap_hourly",
    "datamap_hourly_mv",
    "volume_hourly",
    "volume_hourly_mv",
    "appi_provisions",
    "appi_provisions_mv",
}


def _tables(client: Any, database: str) -> set[str]:
    rows = client.query(
        "SELECT name FROM system.tables WHERE database = {db:String}", parameters={"db": database}
    ).result_rows
    return {row[0] for row in rows}


def _ledger(client: Any, database: str) -> list[tuple[int, str]]:
    rows = client.query(
        f"SELECT version, name FROM {database}.schema_migrations FINAL ORDER BY version"
    ).result_rows
    return [(int(v), str(n)) for v, n in rows]


def test_first_run_applies_everything_and_records_it(
    chdb_client: Any, clickhouse_database: str
) -> None:
    """A fresh database gets every table and view, and the ledger lists every migration."""
    report = migrate(chdb_client, clickhouse_database, retention_days=30)
    assert [m.version for m in report.applied] == [m.version for m in available_migrations()]
    assert _tables(chdb_client, clickhouse_database) == EXPECTED_TABLES
    assert _ledger(chdb_client, clickhouse_database) == [
        (m.version, m.name) for m in available_migrations()
    ]
    assert pending_migrations(chdb_client, clickhouse_database) == []


def test_second_run_is_a_no_op(chdb_client: Any, clickhouse_database: str) -> None:
    """Running again applies nothing, changes no table, and adds no ledger row."""
    migrate(chdb_client, clickhouse_database, retention_days=30)
    before = _tables(chdb_client, clickhouse_database)
    again = migrate(chdb_client, clickhouse_database, retention_days=30)
    assert again.applied == ()
    assert again.retention_updated == ()
    assert _tables(chdb_client, clickhouse_database) == before
    count = chdb_client.command(f"SELECT count() FROM {clickhouse_database}.schema_migrations")
    assert int(count) == len(available_migrations())


def test_a_run_interrupted_after_creating_tables_completes(
    chdb_client: Any, clickhouse_database: str
) -> None:
    """Tables created but not recorded (a crash mid-migration) do not stop the next run."""
    migrate(chdb_client, clickhouse_database, retention_days=30)
    chdb_client.command(
        f"ALTER TABLE {clickhouse_database}.schema_migrations DELETE WHERE version = 2",
        settings={"mutations_sync": 2},
    )
    report = migrate(chdb_client, clickhouse_database, retention_days=30)
    assert [m.version for m in report.applied] == [2]


def test_retention_change_updates_every_ttl(chdb_client: Any, clickhouse_database: str) -> None:
    """A new retention_days rewrites the TTL of the data and aggregate tables, only then."""
    migrate(chdb_client, clickhouse_database, retention_days=30)
    report = migrate(chdb_client, clickhouse_database, retention_days=90)
    assert set(report.retention_updated) == {
        "access_events",
        "violations",
        "rejected_events",
        "access_hourly",
        "violations_daily",
        "datamap_hourly",
        "volume_hourly",
    }
    engine = chdb_client.command(
        "SELECT engine_full FROM system.tables WHERE database = {db:String} "
        "AND name = 'access_events'",
        parameters={"db": clickhouse_database},
    )
    assert "toIntervalDay(90)" in str(engine)


def test_an_edited_migration_is_refused(chdb_client: Any, clickhouse_database: str) -> None:
    """A ledger checksum that no longer matches its file stops the migration with its name."""
    migrate(chdb_client, clickhouse_database, retention_days=30)
    chdb_client.insert(
        f"{clickhouse_database}.schema_migrations",
        [[1, "audit_tables", "0000000000000000"]],
        column_names=["version", "name", "checksum"],
    )
    with pytest.raises(MigrationError, match="001_audit_tables was edited"):
        migrate(chdb_client, clickhouse_database, retention_days=30)


def test_a_database_newer_than_the_code_is_refused(
    chdb_client: Any, clickhouse_database: str
) -> None:
    """A ledger entry unknown to this version is reported, not ignored."""
    migrate(chdb_client, clickhouse_database, retention_days=30)
    chdb_client.insert(
        f"{clickhouse_database}.schema_migrations",
        [[99, "from_the_future", "abc"]],
        column_names=["version", "name", "checksum"],
    )
    with pytest.raises(MigrationError, match=r"099_from_the_future .* older than the schema"):
        migrate(chdb_client, clickhouse_database, retention_days=30)
