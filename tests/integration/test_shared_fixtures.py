"""The shared ClickHouse fixtures: one engine per session, a fresh database per test."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration


def test_clickhouse_database_is_fresh_and_usable(
    chdb_client: Any, clickhouse_database: str
) -> None:
    """The database exists, starts empty, and takes a table with rows."""
    assert chdb_client.command(f"EXISTS DATABASE {clickhouse_database}") == 1
    assert chdb_client.query(f"SHOW TABLES FROM {clickhouse_database}").result_rows == []
    chdb_client.command(
        f"CREATE TABLE {clickhouse_database}.probe (n UInt32) ENGINE = MergeTree ORDER BY n"
    )
    chdb_client.insert(f"{clickhouse_database}.probe", [[1], [2], [3]], column_names=["n"])
    assert chdb_client.query(f"SELECT sum(n) FROM {clickhouse_database}.probe").result_rows == [
        (6,)
    ]
