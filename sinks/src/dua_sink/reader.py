"""`open_reader(settings)`: the one way every query tool reads the audit tables.

- ClickHouse server (DSN `http://…`): straight to the server over HTTP.
- Embedded chDB, sink running: through the sink's read-only endpoint (the sink owns the
  directory; chDB lets one process open it).
- Embedded chDB, no sink: the directory itself, on a `readonly=1` handle.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from dua_sink.chdb_engine import ReadOnlyChdb
from dua_sink.connection import chdb_directory, is_chdb
from dua_sink.errors import ReaderUnavailable
from dua_sink.http_reader import HttpReader
from dua_sink.json_compact import QueryResult, parse_json_compact
from dua_sink.query_parameters import format_parameters
from dua_sink.sink_state import SinkRecord, pid_alive, read_record
from dua_sink.statement_guard import single_read_statement

# A sink that is starting holds the directory a moment before its endpoint answers.
BUSY_RETRY_S = 10.0


class Reader(Protocol):
    """Runs read queries; values come back as Python types (see `json_compact`)."""

    description: str

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> QueryResult: ...

    def close(self) -> None: ...


class ReaderSettings(Protocol):
    """What `open_reader` needs of the application's settings."""

    @property
    def state_dir(self) -> Path: ...

    @property
    def effective_clickhouse_dsn(self) -> str: ...

    @property
    def clickhouse_database(self) -> str: ...


class ChdbReader:
    """Reads the embedded engine's directory in this process."""

    __slots__ = ("description", "engine")

    def __init__(self, engine: ReadOnlyChdb) -> None:
        self.engine = engine
        self.description = f"chDB directory {engine.directory}"

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> QueryResult:
        # The same rule as the sink's endpoint, so a query behaves alike on both paths.
        statement = single_read_statement(sql).rstrip(";")
        return parse_json_compact(
            self.engine.execute(statement, format_parameters(parameters), "JSONCompact")
        )

    def close(self) -> None:
        self.engine.close()


def open_reader(settings: ReaderSettings, *, busy_retry_s: float = BUSY_RETRY_S) -> Reader:
    """A reader for the configured ClickHouse (see the module docstring for which)."""
    dsn = settings.effective_clickhouse_dsn
    database = settings.clickhouse_database
    if not is_chdb(dsn):
        return HttpReader.from_dsn(dsn, database)
    deadline = time.monotonic() + busy_retry_s
    while True:
        record = _running_sink(settings.state_dir)
        if record is not None and record.query_port:
            endpoint = HttpReader(
                f"http://127.0.0.1:{record.query_port}/",
                database,
                description=f"the sink's endpoint (pid {record.pid}, port {record.query_port})",
            )
            if endpoint.ping():
                return endpoint
        try:
            return ChdbReader(ReadOnlyChdb(chdb_directory(dsn), database))
        except ReaderUnavailable as exc:
            busy = "Cannot lock file" in str(exc)
            if not busy or time.monotonic() >= deadline:
                if busy:
                    raise ReaderUnavailable(
                        f"{exc}. Another process holds it and no sink endpoint answers in "
                        f"{settings.state_dir}; is a sink starting, or another dua command running?"
                    ) from exc
                raise
        time.sleep(0.3)


def _running_sink(state_dir: Path) -> SinkRecord | None:
    record = read_record(state_dir)
    if record is None or not pid_alive(record.pid):
        return None
    return record
