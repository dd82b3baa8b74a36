"""`open_reader` picks the right path: a server over HTTP, the sink's endpoint while a sink
runs, the chDB directory itself when none does."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dua.read_path import open_reader
from dua_compliance import QueryRefused
from dua_compliance.http_reader import HttpReader
from dua_sink import SinkRecord, migrate
from dua_sink.chdb_engine import ReadOnlyChdb
from dua_sink.connection import chdb_directory, is_chdb
from dua_sink.query_endpoint import QueryEndpoint
from dua_sink.sink_state import write_record

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class _Settings:
    state_dir: Path
    effective_clickhouse_dsn: str
    clickhouse_database: str


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def _record(pid: int, query_port: int) -> SinkRecord:
    return SinkRecord(pid, "chdb://x", "dua", query_port, 0, "2026-01-01T00:00:00+00:00")


def test_server_dsn_reads_over_http(tmp_path: Path) -> None:
    """A server DSN gives an HTTP reader with the DSN's host, port and user."""
    settings = _Settings(tmp_path, "http://auditor:s%40cret@ch.internal:8124/other", "dua")
    reader = open_reader(settings)
    assert isinstance(reader, HttpReader)
    assert reader.url == "http://ch.internal:8124/"
    assert reader.database == "dua"


@pytest.fixture
def migrated(chdb_client: Any, clickhouse_dsn: str, clickhouse_database: str) -> str:
    if not is_chdb(clickhouse_dsn):
        pytest.skip("the chDB reader paths need the embedded engine")
    migrate(chdb_client, clickhouse_database, retention_days=30)
    return clickhouse_database


def test_without_a_live_sink_the_directory_is_read_directly(
    migrated: str, clickhouse_dsn: str, tmp_path: Path
) -> None:
    """A sink.json left by a dead sink is ignored; the reader opens the directory read-only,
    behind an endpoint of its own that ends with the reader."""
    write_record(tmp_path, _record(_dead_pid(), 1))
    reader = open_reader(_Settings(tmp_path, clickhouse_dsn, migrated), busy_retry_s=0)
    assert isinstance(reader, HttpReader)
    try:
        assert reader.description == f"chDB directory {chdb_directory(clickhouse_dsn)}"
        assert reader.query("SELECT count() FROM access_events").rows == [(0,)]
        with pytest.raises(QueryRefused):
            reader.query("DROP TABLE access_events")
        assert reader.ping()
    finally:
        reader.close()
    assert not reader.ping()


def test_with_a_live_sink_its_endpoint_is_used(
    migrated: str, clickhouse_dsn: str, tmp_path: Path
) -> None:
    """A live sink's endpoint answers; the reader goes through it."""
    engine = ReadOnlyChdb(chdb_directory(clickhouse_dsn), migrated)
    endpoint = QueryEndpoint(engine)
    endpoint.start()
    try:
        write_record(tmp_path, _record(os.getpid(), endpoint.port))
        reader = open_reader(_Settings(tmp_path, clickhouse_dsn, migrated))
        assert isinstance(reader, HttpReader)
        assert "endpoint" in reader.description
        assert reader.query("SELECT count() FROM violations").rows == [(0,)]
    finally:
        endpoint.stop()
        engine.close()
