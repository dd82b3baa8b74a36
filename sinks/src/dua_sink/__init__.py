"""ClickHouse side of data-usage-audit: the batching sink, the schema, the compliance queries.

- `run_sink(config, stop)`: consume the tagged, violation and DLQ topics into ClickHouse
  (chDB by default), exactly once as queries see it.
- `migrate(client, database, retention_days)`: versioned, idempotent schema migrations.
- `open_reader(settings)`: read the audit tables from any process, even while the sink owns
  the embedded engine's directory.
- `saved_queries()`, `run_saved(...)`, `collect_report(...)`, `render_html(...)`: the
  compliance team's questions and report.
"""

from dua_sink.audit_store import AuditStore
from dua_sink.backoff import BackoffPolicy
from dua_sink.batching import OffsetRange, PartitionBuffer, Segment, dedup_token
from dua_sink.connection import ClickHouseClient, connect, is_chdb
from dua_sink.errors import (
    ClickHouseUnavailable,
    MigrationError,
    QueryError,
    QueryRefused,
    ReaderUnavailable,
    RowRejected,
    UnknownSavedQuery,
)
from dua_sink.event_replay import StoredEvent, stored_events
from dua_sink.html_report import render_html
from dua_sink.json_compact import QueryResult
from dua_sink.metrics import MetricName, SinkMetrics
from dua_sink.migrations import (
    MigrationReport,
    MigrationState,
    available_migrations,
    migrate,
    pending_migrations,
)
from dua_sink.reader import Reader, ReaderSettings, open_reader
from dua_sink.report_data import ReportData, collect_report
from dua_sink.report_text import render_text
from dua_sink.result_format import OutputFormat, render_result
from dua_sink.routing import RecordRouter, SinkTopics
from dua_sink.saved_queries import SavedQuery, run_saved, saved_queries, saved_query
from dua_sink.sink_config import SinkConfig
from dua_sink.sink_runner import prepare_schema, run_sink
from dua_sink.sink_state import SinkRecord, read_record
from dua_sink.subject_access import subject_accesses
from dua_sink.time_window import parse_duration, window_start

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
    "OutputFormat",
    "PartitionBuffer",
    "QueryError",
    "QueryRefused",
    "QueryResult",
    "Reader",
    "ReaderSettings",
    "ReaderUnavailable",
    "RecordRouter",
    "ReportData",
    "RowRejected",
    "SavedQuery",
    "Segment",
    "SinkConfig",
    "SinkMetrics",
    "SinkRecord",
    "SinkTopics",
    "StoredEvent",
    "UnknownSavedQuery",
    "available_migrations",
    "collect_report",
    "connect",
    "dedup_token",
    "is_chdb",
    "migrate",
    "open_reader",
    "parse_duration",
    "pending_migrations",
    "prepare_schema",
    "read_record",
    "render_html",
    "render_result",
    "render_text",
    "run_saved",
    "run_sink",
    "saved_queries",
    "saved_query",
    "stored_events",
    "subject_accesses",
    "window_start",
]
