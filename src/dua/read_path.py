"""`open_reader(settings)`: the one way every query tool reads the audit tables.

The compliance side reads over ClickHouse's HTTP interface only; this module, which knows
both the sink and the compliance component, picks what answers:

- ClickHouse server (DSN `http://…`): straight to the server over HTTP.
- Embedded chDB, sink running: the sink's read-only endpoint (the sink owns the directory;
  chDB lets one process open it).
- Embedded chDB, no sink: the directory itself, on a `readonly=1` handle served by the same
  read-only endpoint on a loopback port of this process, for as long as the reader lives.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

from dua_compliance import HttpReader, Reader
from dua_sink import (
    QueryEndpoint,
    ReaderUnavailable,
    ReadOnlyChdb,
    SinkRecord,
    chdb_directory,
    is_chdb,
    pid_alive,
    read_record,
)

# A sink that is starting holds the directory a moment before its endpoint answers.
BUSY_RETRY_S = 10.0


class ReaderSettings(Protocol):
    """What `open_reader` needs of the application's settings."""

    @property
    def state_dir(self) -> Path: ...

    @property
    def effective_clickhouse_dsn(self) -> str: ...

    @property
    def clickhouse_database(self) -> str: ...


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
            return open_directory(chdb_directory(dsn), database)
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


def open_directory(directory: str, database: str) -> HttpReader:
    """A reader of a chDB directory no other process holds, through an endpoint of its own."""
    engine = ReadOnlyChdb(directory, database)
    endpoint = QueryEndpoint(engine)
    try:
        port = endpoint.start()
    except BaseException:
        engine.close()
        raise

    def close() -> None:
        endpoint.stop()
        engine.close()

    return HttpReader(
        f"http://127.0.0.1:{port}/",
        database,
        description=f"chDB directory {directory}",
        on_close=close,
    )


def _running_sink(state_dir: Path) -> SinkRecord | None:
    record = read_record(state_dir)
    if record is None or not pid_alive(record.pid):
        return None
    return record
