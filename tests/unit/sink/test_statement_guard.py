"""The read endpoint takes one read statement; everything else is refused before ClickHouse."""

from __future__ import annotations

import pytest

from dua_sink import QueryRefused
from dua_sink.statement_guard import single_read_statement


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "  select count() from access_events;",
        "WITH 1 AS x SELECT x",
        "SHOW TABLES",
        "DESCRIBE TABLE access_events",
        "EXPLAIN SELECT 1",
        "/* why */ SELECT 'a;b' AS s -- trailing ; comment",
        "(SELECT 1) UNION ALL (SELECT 2)",
    ],
)
def test_reads_pass(sql: str) -> None:
    """Read statements, with semicolons only inside strings or comments, are accepted."""
    assert single_read_statement(sql) == sql.strip()


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("INSERT INTO access_events (event_id) VALUES ('x')", "INSERT"),
        ("DROP TABLE access_events", "DROP"),
        ("SYSTEM STOP MERGES", "SYSTEM"),
        ("KILL QUERY WHERE 1", "KILL"),
        ("SELECT 1; DROP TABLE access_events", "one statement"),
        ("-- only a comment", "empty"),
        ("", "empty"),
    ],
)
def test_anything_else_is_refused(sql: str, reason: str) -> None:
    """Writes, SYSTEM/KILL, several statements and empty queries are refused with a reason."""
    with pytest.raises(QueryRefused, match=reason):
        single_read_statement(sql)
