"""Keeps the tables' TTL equal to the `retention_days` setting."""

from __future__ import annotations

import re

from dua_sink.cluster_sql import on_cluster
from dua_sink.connection import ClickHouseClient
from dua_sink.sql_text import render, split_statements, sql_resource

_INTERVAL = re.compile(r"toIntervalDay\((\d+)\)")


def apply_retention(
    client: ClickHouseClient, database: str, retention_days: int, cluster: str | None = None
) -> list[str]:
    """Modify the TTL of the tables whose interval differs; return their names.

    On `cluster`, each ALTER runs `ON CLUSTER` (the replicated tables of every shard)."""
    status = client.query(
        sql_resource("sql", "retention_status.sql"), parameters={"database": database}
    ).result_rows
    current = {str(name): _days(str(engine)) for name, engine in status}
    statements = split_statements(
        render(
            sql_resource("sql", "retention.sql"), database=database, retention_days=retention_days
        )
    )
    if cluster is not None:
        statements = on_cluster(statements, cluster)
    changed = []
    for statement in statements:
        table = statement.split()[2].split(".", 1)[1]
        if table in current and current[table] != retention_days:
            client.command(statement, settings={"materialize_ttl_after_modify": 0})
            changed.append(table)
    return changed


def _days(engine_full: str) -> int | None:
    match = _INTERVAL.search(engine_full)
    return int(match.group(1)) if match else None
