"""The numbers of `dua report`, read once through a `Reader`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from dua_compliance.reader import Reader
from dua_compliance.saved_queries import run_saved
from dua_compliance.sql_files import sql_resource

SEVERITY_ORDER = ("critical", "high", "medium", "low")
DATA_CATEGORIES = ("personal", "informative", "unknown")
TOP = 10


@dataclass(frozen=True, slots=True)
class Totals:
    events: int
    services: int
    violations: int
    shadow_findings: int
    critical: int
    rejected: int


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the terminal summary and the HTML report show."""

    since: datetime
    until: datetime
    totals: Totals
    # purpose category → data category → element accesses
    matrix: dict[str, dict[str, int]]
    # day → severity → active violations
    violations_by_day: dict[date, dict[str, int]]
    top_services: list[tuple[str, int, int]]
    top_rules: list[tuple[str, str, int, int]]
    # rule, service, violations, longest delay (ms): found by a consent change that arrived
    # after the processor's grace (the saved query violations_found_late)
    found_late: list[tuple[str, str, int, int]]


def collect_report(reader: Reader, since: datetime, until: datetime) -> ReportData:
    """Run the report's queries for the window [since, until]."""
    window = {"since": since}
    totals_row = reader.query(sql_resource("sql", "report_totals.sql"), window).rows[0]
    totals = Totals(*(int(value) for value in totals_row))

    matrix: dict[str, dict[str, int]] = {}
    for row in run_saved(reader, "purpose_category_matrix", since).dicts():
        matrix[str(row["purpose_category"])] = {c: int(row[c]) for c in DATA_CATEGORIES}

    by_day: dict[date, dict[str, int]] = {}
    for day, severity, count in reader.query(
        sql_resource("sql", "report_violations_by_day.sql"), window
    ).rows:
        by_day.setdefault(day, {})[str(severity)] = int(count)

    limited = {"since": since, "limit": TOP}
    services = [
        (str(s), int(e), int(v))
        for s, e, v in reader.query(sql_resource("sql", "report_top_services.sql"), limited).rows
    ]
    rules = [
        (str(r), str(sev), int(n), int(svc))
        for r, sev, n, svc in reader.query(
            sql_resource("sql", "report_top_rules.sql"), limited
        ).rows
    ]
    late = [
        (
            str(row["rule"]),
            str(row["service"]),
            int(row["violations"]),
            int(row["longest_delay_ms"]),
        )
        for row in run_saved(reader, "violations_found_late", since).dicts()
    ]
    return ReportData(since, until, totals, matrix, by_day, services, rules, late)
