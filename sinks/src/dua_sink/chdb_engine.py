"""A read-only handle on the embedded engine's directory.

ClickHouse's own `readonly=1` is set on the handle once; with it, ClickHouse refuses every
write, DDL and settings change sent through this handle, whatever the SQL says.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import chdb

from dua_sink.errors import QueryError, ReaderUnavailable
from dua_sink.sql_text import check_identifier


class ReadOnlyChdb:
    """Runs read queries on a chDB directory with `readonly=1`, one at a time."""

    __slots__ = ("_conn", "_lock", "database", "directory")

    def __init__(self, directory: str, database: str) -> None:
        self.directory = directory
        self.database = check_identifier(database)
        self._lock = threading.Lock()
        try:
            self._conn = chdb.connect(directory)  # type: ignore[no-untyped-call]
        except RuntimeError as exc:
            raise ReaderUnavailable(
                f"cannot open the chDB directory {directory}: {_reason(exc)}"
            ) from exc
        try:
            self._conn.query(f"USE {self.database}", "TabSeparated")
        except RuntimeError as exc:
            self._conn.close()
            raise ReaderUnavailable(
                f"database {database} does not exist in {directory}: "
                "run `dua db migrate` or start `dua run sink`"
            ) from exc
        self._conn.query("SET readonly = 1", "TabSeparated")

    def execute(self, sql: str, parameters: Mapping[str, str], fmt: str) -> bytes:
        """Run one query; the result in format `fmt`, or `QueryError` with ClickHouse's reason."""
        with self._lock:
            try:
                result = self._conn.query(sql, fmt, params=dict(parameters))
            except RuntimeError as exc:
                raise QueryError(_reason(exc)) from exc
        data: bytes = result.bytes() or b""
        return data

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _reason(exc: BaseException) -> str:
    """ClickHouse's message without chDB's wrapping ("Failed to create connection: ...")."""
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Code:" in line:
            return line.strip()
    return lines[-1] if lines else type(exc).__name__
