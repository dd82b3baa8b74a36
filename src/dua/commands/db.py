"""`dua db migrate | status`: the audit schema in ClickHouse."""

from __future__ import annotations

import click

from dua.read_path import open_reader
from dua.settings import Settings, load_settings
from dua_sink import ClickHouseUnavailable, connect, is_chdb, migrate, pid_alive, read_record
from dua_sink.migrations import migration_status


@click.group()
def db() -> None:
    """Create and inspect the audit schema (tables, views, aggregates, retention)."""


@db.command(name="migrate")
def migrate_command() -> None:
    """Apply pending migrations (idempotent) and the retention setting."""
    settings = load_settings()
    _refuse_while_sink_owns_directory(settings)
    if settings.clickhouse_cluster and is_chdb(settings.effective_clickhouse_dsn):
        raise click.ClickException(
            "DUA_CLICKHOUSE_CLUSTER is set but the schema would go to the embedded chDB: "
            "set DUA_CLICKHOUSE_DSN to a server of that cluster"
        )
    client = connect(settings.effective_clickhouse_dsn)
    try:
        report = migrate(
            client,
            settings.clickhouse_database,
            settings.retention_days,
            cluster=settings.clickhouse_cluster,
        )
    finally:
        client.close()
    for migration in report.applied:
        click.echo(f"applied {migration.version:03d}_{migration.name}")
    if not report.applied:
        click.echo(f"schema of {settings.clickhouse_database} is current; nothing to apply")
    for table in report.retention_updated:
        click.echo(f"retention of {table} set to {settings.retention_days} days")


@db.command()
def status() -> None:
    """Show every migration and whether it is applied."""
    settings = load_settings()
    reader = open_reader(settings)
    try:
        states = migration_status(reader, settings.clickhouse_database)
    finally:
        reader.close()
    for state in states:
        when = f"{state.applied_at:%Y-%m-%d %H:%M:%S} UTC" if state.applied_at else ""
        click.echo(f"{state.version:03d}  {state.name:<20} {state.state:<8} {when}".rstrip())


def _refuse_while_sink_owns_directory(settings: Settings) -> None:
    record = read_record(settings.state_dir)
    if is_chdb(settings.effective_clickhouse_dsn) and record and pid_alive(record.pid):
        raise ClickHouseUnavailable(
            f"the sink (pid {record.pid}) owns the chDB directory and applied the migrations "
            "it knows when it started; stop it to migrate"
        )
