"""The compliance team's read side of data-usage-audit: questions asked of the audit tables.

- `HttpReader`, `Reader`: read the audit tables over ClickHouse's HTTP interface (a server,
  or the sink's read-only endpoint); the application picks which (`dua.read_path`).
- `saved_queries()`, `run_saved(...)`: the library of saved questions.
- `subject_accesses(...)`: every access to one person's data (subject-access report).
- `collect_report(...)`, `render_text(...)`, `render_html(...)`: the report and its charts.
- `stored_events(...)`, `backtest(...)`: what a candidate policy would have found on the
  stored access events.
- `observed_map(...)`: the observed data map and its drift from the policy;
  `processing_record(...)`: the record of processing activities built from both;
  `find_anomalies(...)`: hours of unusual access volume against their seasonal baseline.
- `appi_records(...)` with `appi_csv`/`appi_json`: APPI provision and confirmation records
  (Art. 29, 31), streamed; `subject_provisions(...)`: one person's (Art. 33(5)).
"""

from dua_compliance.appi_records import appi_csv, appi_json, appi_records, subject_provisions
from dua_compliance.backtest import BacktestResult, FindingChange, backtest, render_backtest
from dua_compliance.datamap import (
    DRIFT_KINDS,
    DataMap,
    DriftKind,
    DriftWindows,
    MapEntry,
    drift_lines,
    observed_map,
)
from dua_compliance.datamap_html import render_datamap_html
from dua_compliance.errors import QueryError, QueryRefused, ReaderUnavailable, UnknownSavedQuery
from dua_compliance.event_replay import StoredEvent, stored_events
from dua_compliance.html_report import render_html
from dua_compliance.http_reader import HttpReader
from dua_compliance.json_compact import QueryResult, parse_json_compact
from dua_compliance.processing_record import (
    ProcessingRecord,
    processing_record,
    record_csv,
    record_json,
)
from dua_compliance.reader import Reader
from dua_compliance.report_data import ReportData, collect_report
from dua_compliance.report_text import render_text
from dua_compliance.result_format import OutputFormat, render_result
from dua_compliance.saved_queries import SavedQuery, run_saved, saved_queries, saved_query
from dua_compliance.subject_access import subject_accesses
from dua_compliance.time_window import parse_duration, window_start
from dua_compliance.volume_anomalies import (
    AnomalyConfig,
    VolumeAnomaly,
    anomalies_result,
    find_anomalies,
)

__all__ = [
    "DRIFT_KINDS",
    "AnomalyConfig",
    "BacktestResult",
    "DataMap",
    "DriftKind",
    "DriftWindows",
    "FindingChange",
    "HttpReader",
    "MapEntry",
    "OutputFormat",
    "ProcessingRecord",
    "QueryError",
    "QueryRefused",
    "QueryResult",
    "Reader",
    "ReaderUnavailable",
    "ReportData",
    "SavedQuery",
    "StoredEvent",
    "UnknownSavedQuery",
    "VolumeAnomaly",
    "anomalies_result",
    "appi_csv",
    "appi_json",
    "appi_records",
    "backtest",
    "collect_report",
    "drift_lines",
    "find_anomalies",
    "observed_map",
    "parse_duration",
    "parse_json_compact",
    "processing_record",
    "record_csv",
    "record_json",
    "render_backtest",
    "render_datamap_html",
    "render_html",
    "render_result",
    "render_text",
    "run_saved",
    "saved_queries",
    "saved_query",
    "stored_events",
    "subject_accesses",
    "subject_provisions",
    "window_start",
]
