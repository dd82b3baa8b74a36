"""The ClickHouse writer of data-usage-audit: the batching sink and the schema it writes.

- `run_sink(config, stop)`: consume the tagged, violation and DLQ topics into ClickHouse
  (chDB by default), exactly once as queries see it.
- `migrate(client, database, retention_days)`: versioned, idempotent schema migrations.
- `QueryEndpoint`, `ReadOnlyChdb`: the read-only endpoint the sink serves on the embedded
  engine it owns (ClickHouse's HTTP interface, single read statements only); the compliance
  side reads through it.
- `read_record(state_dir)`: where a running sink serves that endpoint.

Names load on first use (PEP 562): `from dua_sink.sink_config import SinkConfig` or
`dua_sink.SinkConfig` does not load chDB or clickhouse-connect, so the application can read
the sink's defaults without paying for the engine at every `dua --help`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dua_sink.audit_store import AuditStore
    from dua_sink.backoff import BackoffPolicy
    from dua_sink.batching import OffsetRange, PartitionBuffer, Segment, dedup_token
    from dua_sink.chdb_engine import ReadOnlyChdb
    from dua_sink.connection import ClickHouseClient, chdb_directory, connect, is_chdb
    from dua_sink.errors import (
        ClickHouseUnavailable,
        MigrationError,
        QueryError,
        QueryRefused,
        ReaderUnavailable,
        RowRejected,
    )
    from dua_sink.metrics import MetricName, SinkMetrics
    from dua_sink.migrations import (
        MigrationReport,
        MigrationState,
        available_migrations,
        migrate,
        migration_status,
        pending_migrations,
    )
    from dua_sink.query_endpoint import QueryEndpoint
    from dua_sink.routing import RecordRouter, SinkTopics
    from dua_sink.sink_config import SinkConfig
    from dua_sink.sink_runner import prepare_schema, run_sink
    from dua_sink.sink_state import SinkRecord, pid_alive, read_record

# public name -> the module that defines it
_WHERE: dict[str, str] = {
    "AuditStore": "dua_sink.audit_store",
    "available_migrations": "dua_sink.migrations",
    "BackoffPolicy": "dua_sink.backoff",
    "chdb_directory": "dua_sink.connection",
    "ClickHouseClient": "dua_sink.connection",
    "ClickHouseUnavailable": "dua_sink.errors",
    "connect": "dua_sink.connection",
    "dedup_token": "dua_sink.batching",
    "is_chdb": "dua_sink.connection",
    "MetricName": "dua_sink.metrics",
    "migrate": "dua_sink.migrations",
    "migration_status": "dua_sink.migrations",
    "MigrationError": "dua_sink.errors",
    "MigrationReport": "dua_sink.migrations",
    "MigrationState": "dua_sink.migrations",
    "OffsetRange": "dua_sink.batching",
    "PartitionBuffer": "dua_sink.batching",
    "pending_migrations": "dua_sink.migrations",
    "pid_alive": "dua_sink.sink_state",
    "prepare_schema": "dua_sink.sink_runner",
    "QueryEndpoint": "dua_sink.query_endpoint",
    "QueryError": "dua_sink.errors",
    "QueryRefused": "dua_sink.errors",
    "read_record": "dua_sink.sink_state",
    "ReaderUnavailable": "dua_sink.errors",
    "ReadOnlyChdb": "dua_sink.chdb_engine",
    "RecordRouter": "dua_sink.routing",
    "RowRejected": "dua_sink.errors",
    "run_sink": "dua_sink.sink_runner",
    "Segment": "dua_sink.batching",
    "SinkConfig": "dua_sink.sink_config",
    "SinkMetrics": "dua_sink.metrics",
    "SinkRecord": "dua_sink.sink_state",
    "SinkTopics": "dua_sink.routing",
}

__all__ = [
    "AuditStore",
    "BackoffPolicy",
    "ClickHouseClient",
    "ClickHouseUnavailable",
    "MetricName",
    "MigrationError",
    "MigrationReport",
    "MigrationState",
    "OffsetRange",
    "PartitionBuffer",
    "QueryEndpoint",
    "QueryError",
    "QueryRefused",
    "ReadOnlyChdb",
    "ReaderUnavailable",
    "RecordRouter",
    "RowRejected",
    "Segment",
    "SinkConfig",
    "SinkMetrics",
    "SinkRecord",
    "SinkTopics",
    "available_migrations",
    "chdb_directory",
    "connect",
    "dedup_token",
    "is_chdb",
    "migrate",
    "migration_status",
    "pending_migrations",
    "pid_alive",
    "prepare_schema",
    "read_record",
    "run_sink",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'dua_sink' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
