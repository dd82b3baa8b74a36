"""The migrations rendered for a ClickHouse cluster (`DUA_CLICKHOUSE_CLUSTER`), and unchanged
without one: no server needed, the rendered statements are read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from dua_schemas import ConfigError
from dua_sink import available_migrations, migrate
from dua_sink.cluster_sql import DISTRIBUTED, on_cluster
from dua_sink.sql_text import render, split_statements, sql_resource

DATABASE = "dua"
CLUSTER = "dua"
CHANGES_ON_CLUSTER = re.compile(
    r"^(CREATE [A-Z ]+ IF NOT EXISTS|ALTER TABLE|DROP VIEW IF EXISTS) [\w.]+ ON CLUSTER dua\b"
)
PLAIN_ENGINE = re.compile(r"\bENGINE = (Replacing|Summing|Aggregating)?MergeTree\b")


def _all(cluster: str | None) -> list[str]:
    return [
        statement
        for migration in available_migrations()
        for statement in migration.statements(DATABASE, 30, cluster)
    ]


def test_without_a_cluster_the_statements_are_the_files_own() -> None:
    """No cluster: each statement is the file's, rendered and split, byte for byte."""
    for migration in available_migrations():
        expected = split_statements(
            render(migration.template, database=DATABASE, retention_days=30)
        )
        assert migration.statements(DATABASE, 30) == expected
        assert migration.statements(DATABASE, 30, None) == expected


def test_on_a_cluster_every_statement_runs_on_every_node() -> None:
    """Every CREATE (and ALTER) names the cluster right after the object it changes; a
    backfill INSERT (no ON CLUSTER in ClickHouse) is left as written."""
    statements = _all(CLUSTER)
    assert statements
    for statement in statements:
        if statement.startswith("INSERT INTO "):
            assert " ON CLUSTER " not in statement
            continue
        assert re.match(CHANGES_ON_CLUSTER, statement), statement


def test_an_altered_table_alters_its_distributed_table_too() -> None:
    """A column added to `violations` is added to `violations_all`, which inserts go to."""
    statements = _all(CLUSTER)
    altered = [
        s for s in statements if s.startswith("ALTER TABLE dua.violations") and "ADD COLUMN" in s
    ]
    # migrations 003 (detected_late_ms) and 007 (sink_write)
    assert [s.split(" ON CLUSTER")[0] for s in altered] == [
        "ALTER TABLE dua.violations",
        "ALTER TABLE dua.violations_all",
    ] * 2


def test_projections_and_settings_stay_on_the_local_tables() -> None:
    """A projection or a setting altered on `access_events` is not sent to its Distributed table."""
    statements = _all(CLUSTER)
    local = [s for s in statements if "PROJECTION" in s or "MODIFY SETTING" in s]
    assert local
    for statement in local:
        assert re.match(r"^ALTER TABLE dua\.(access_events|violations) ON CLUSTER", statement)


def test_on_a_cluster_every_table_is_replicated() -> None:
    """No plain MergeTree is left, and the dedup window is the replicated one."""
    statements = _all(CLUSTER)
    engines = [s for s in statements if "ENGINE = " in s and "Distributed(" not in s]
    assert engines
    for statement in engines:
        assert not PLAIN_ENGINE.search(statement), statement
        assert re.search(
            r"ENGINE = Replicated(Replacing|Summing|Aggregating)?MergeTree\b", statement
        )
        assert "non_replicated_deduplication_window" not in statement
    assert any("replicated_deduplication_window = 10000" in s for s in engines)


def test_replication_keeps_each_engine_s_parameters() -> None:
    """ReplacingMergeTree(inserted_at) becomes ReplicatedReplacingMergeTree(inserted_at)."""
    text = "\n".join(_all(CLUSTER))
    assert "ENGINE = ReplicatedReplacingMergeTree(inserted_at)" in text
    assert "ENGINE = ReplicatedSummingMergeTree((events, records))" in text
    assert "ENGINE = ReplicatedMergeTree\nPARTITION BY toYYYYMM(rejected_at)" in text


@pytest.mark.parametrize(("table", "key"), sorted(DISTRIBUTED.items()))
def test_the_written_tables_get_a_distributed_table(table: str, key: str) -> None:
    """Each table the sink writes has `<table>_all` over the cluster, sharded by its key."""
    statements = _all(CLUSTER)
    (distributed,) = [
        s for s in statements if s.startswith(f"CREATE TABLE IF NOT EXISTS {DATABASE}.{table}_all ")
    ]
    assert f"AS {DATABASE}.{table}\n" in distributed
    assert distributed.endswith(f"ENGINE = Distributed(dua, {DATABASE}, {table}, {key})")
    local = statements.index(
        next(s for s in statements if s.startswith(f"CREATE TABLE IF NOT EXISTS dua.{table} ON"))
    )
    assert statements.index(distributed) == local + 1  # right after its local table


def test_views_read_every_shard_and_materialized_views_their_node() -> None:
    """The *_unique views read the Distributed tables; materialized views stay local."""
    statements = _all(CLUSTER)
    unique = [s for s in statements if s.startswith("CREATE VIEW")]
    assert unique
    for view in unique:
        assert re.search(r"FROM dua\.\w+_all FINAL$", view), view
    materialized = [s for s in statements if s.startswith("CREATE MATERIALIZED VIEW")]
    assert materialized
    for view in materialized:
        assert "_all" not in view, view


def test_retention_alters_run_on_the_cluster() -> None:
    """The retention ALTERs name the cluster after the table (where apply_retention reads it)."""
    statements = split_statements(
        render(sql_resource("sql", "retention.sql"), database=DATABASE, retention_days=30)
    )
    for statement in on_cluster(statements, CLUSTER):
        assert re.match(r"^ALTER TABLE dua\.\w+ ON CLUSTER dua MODIFY TTL ", statement)


def test_a_cluster_name_that_is_not_an_identifier_is_refused() -> None:
    """The name is pasted into SQL: anything but an identifier is refused."""
    with pytest.raises(ConfigError):
        on_cluster(["CREATE DATABASE IF NOT EXISTS dua"], "dua; DROP TABLE x")


@dataclass
class _RecordingClient:
    """Records what `migrate` sends; answers as an empty server would."""

    commands: list[str] = field(default_factory=list)
    inserts: list[str] = field(default_factory=list)

    def command(self, sql: str, **_: Any) -> Any:
        self.commands.append(sql)
        return 0  # EXISTS TABLE: no ledger yet

    def query(self, sql: str, **_: Any) -> Any:
        return type("Result", (), {"result_rows": []})()

    def insert(self, table: str, *_: Any, **__: Any) -> None:
        self.inserts.append(table)


def test_migrate_on_a_cluster_sends_only_cluster_statements() -> None:
    """A whole `migrate(cluster=...)` run: the database and every object ON CLUSTER."""
    client = _RecordingClient()
    report = migrate(client, DATABASE, 30, cluster=CLUSTER)  # type: ignore[arg-type]
    assert client.commands[0] == "CREATE DATABASE IF NOT EXISTS dua ON CLUSTER dua"
    creates = [c for c in client.commands if c.startswith("CREATE")]
    assert all(" ON CLUSTER dua" in c for c in creates)
    assert len(report.applied) == len(available_migrations())
    assert set(client.inserts) == {"dua.schema_migrations"}


@pytest.mark.integration  # ClickHouse's own parser (chDB, or the docker backend's server)
def test_clickhouse_parses_every_cluster_statement(chdb_client: Any) -> None:
    """Each statement of the cluster form is valid ClickHouse SQL (EXPLAIN AST: parsed only)."""
    statements = _all(CLUSTER)
    for statement in statements:
        rows = chdb_client.query(f"EXPLAIN AST {statement}").result_rows
        assert rows[0][0].startswith(
            ("CreateQuery dua ", "AlterQuery dua ", "DropQuery dua ", "InsertQuery")
        ), statement
