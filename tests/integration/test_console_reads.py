"""The console's reads on the tables (not their FINAL views) give the answers of the deduplicated
views: the inbox counts each violation once by its id, the subject view lists each access and
violation once, and the event view opens the FINAL view's row through the `by_event` projection
(migration 006)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dua.read_path import open_directory
from dua_compliance.console.audit_reads import event_detail, subject_events, subject_violations
from dua_compliance.console.issues import console_sql
from dua_producer import pseudonymize
from dua_sink import migrate
from dua_sink.connection import chdb_directory

from .console_harness import NAME, NOW, RAW_SUBJECT, SUBJECT_KEY, _event, write_events

pytestmark = pytest.mark.integration

UNTIL = NOW
SINCE = NOW - timedelta(days=30)
SUBJECT = pseudonymize(RAW_SUBJECT, SUBJECT_KEY)

# The inbox as the raw question, on the deduplicated view: every active violation counted once.
RAW_ISSUES = """
SELECT rule, service, purpose, destination_kind,
    argMax(severity, occurred_at) AS severity,
    count() AS violations,
    uniqExact(subject_id) AS subjects,
    min(occurred_at) AS first_seen,
    max(occurred_at) AS last_seen,
    countIf(occurred_at >= {until:DateTime64(3, 'UTC')} - INTERVAL 1 DAY) AS last_day,
    countIf(occurred_at < {until:DateTime64(3, 'UTC')} - INTERVAL 1 DAY
        AND occurred_at >= {until:DateTime64(3, 'UTC')} - INTERVAL 2 DAY) AS day_before
FROM violations_unique
WHERE mode = 'active'
  AND occurred_at >= {since:DateTime64(3, 'UTC')} AND occurred_at < {until:DateTime64(3, 'UTC')}
GROUP BY rule, service, purpose, destination_kind
"""

# Times on both sides of each bound of the window and of the trend.
OFFSETS = [
    timedelta(minutes=1),  # the current hour, before `until`
    timedelta(hours=5),
    timedelta(days=1) - timedelta(minutes=1),  # just inside the last day
    timedelta(days=1) + timedelta(minutes=1),  # just outside it
    timedelta(days=1, hours=7),
    timedelta(days=2) - timedelta(seconds=1),
    timedelta(days=2, seconds=1),
    timedelta(days=9),
    timedelta(days=30) - timedelta(minutes=1),  # the hour `since` cuts, inside the window
    timedelta(days=30, minutes=1),  # before the window
]


def _events() -> list[dict[str, Any]]:
    """Violating events of three issues at the times above, some about the known subject."""
    shapes = [
        ("rikunabi", "marketing.campaign_notice", ("payroll_data_misuse", "critical")),
        ("jalan", "service.identity_verification", ("informative_used_for_identification", "high")),
        ("carsensor", "marketing.campaign_notice", ("payroll_data_misuse", "critical")),
    ]
    events = []
    for i, offset in enumerate(OFFSETS * 2):
        service, purpose, rule = shapes[i % len(shapes)]
        events.append(
            _event(
                service,
                purpose,
                [NAME],
                rules=[rule],
                subject_id=SUBJECT if i % 4 == 0 else f"{i % 5:064d}",
                occurred_at=UNTIL - offset,
            )
        )
    events.append(_event("jalan", "fraud_prevention.investigation", [NAME], subject_id=SUBJECT))
    # The rule's severity lowered by a later policy: the issue shows the latest violation's.
    events.append(
        _event(
            "rikunabi",
            "marketing.campaign_notice",
            [NAME],
            rules=[("payroll_data_misuse", "medium")],
            occurred_at=UNTIL - timedelta(seconds=30),
        )
    )
    return events


def _rows(result: Any) -> list[dict[str, Any]]:
    return sorted(result.dicts(), key=lambda r: (r["rule"], r["service"], r["purpose"]))


def _inbox_and_raw(directory: str, database: str) -> tuple[list[Any], list[Any]]:
    reader = open_directory(directory, database)
    try:
        parameters = {"since": SINCE, "until": UNTIL}
        inbox = _rows(reader.query(console_sql("issues.sql"), parameters))
        raw = _rows(reader.query(RAW_ISSUES, parameters))
    finally:
        reader.close()
    return inbox, raw


@pytest.fixture
def written(chdb_client: Any, clickhouse_database: str) -> list[dict[str, Any]]:
    """The events above, written as the sink writes them."""
    migrate(chdb_client, clickhouse_database, retention_days=3650)
    events = _events()
    write_events(chdb_client, clickhouse_database, events)
    return events


def test_the_inbox_equals_the_raw_grouping(
    written: list[dict[str, Any]], clickhouse_dsn: str, clickhouse_database: str
) -> None:
    """Severity, counts, subjects, first and last seen and the trend are those of the raw query,
    also for violations next to the bounds of the window and of the trend."""
    inbox, raw = _inbox_and_raw(chdb_directory(clickhouse_dsn), clickhouse_database)
    assert len(inbox) == 3
    assert inbox == raw
    assert sum(r["violations"] for r in inbox) == 2 * (len(OFFSETS) - 1) + 1
    assert any(r["last_day"] and r["day_before"] for r in inbox)
    severities = {(r["rule"], r["service"]): r["severity"] for r in inbox}
    assert severities[("payroll_data_misuse", "rikunabi")] == "medium"
    assert severities[("payroll_data_misuse", "carsensor")] == "critical"


def test_a_replayed_batch_and_a_violation_emitted_twice_count_once(
    written: list[dict[str, Any]],
    chdb_client: Any,
    clickhouse_dsn: str,
    clickhouse_database: str,
) -> None:
    """The same batch again (same tokens) and the same violations at later offsets (new tokens,
    two rows of one violation id in the table) leave every count as it was."""
    directory = chdb_directory(clickhouse_dsn)
    before, _ = _inbox_and_raw(directory, clickhouse_database)
    write_events(chdb_client, clickhouse_database, written)  # a replay: deduplicated by token
    write_events(chdb_client, clickhouse_database, written[:6], first_offset=500)  # re-emitted
    rows = chdb_client.command(f"SELECT count() FROM {clickhouse_database}.violations")
    assert int(rows) > 2 * (len(OFFSETS) - 1)  # the re-emitted rows are there, unmerged
    inbox, raw = _inbox_and_raw(directory, clickhouse_database)
    assert inbox == raw == before


def test_the_subject_view_lists_each_access_and_violation_once(
    written: list[dict[str, Any]],
    chdb_client: Any,
    clickhouse_dsn: str,
    clickhouse_database: str,
) -> None:
    """The subject's accesses and violations are those of the deduplicated views, before and
    after a merge folds the copies."""
    write_events(chdb_client, clickhouse_database, written[:4], first_offset=700)  # re-emitted
    directory = chdb_directory(clickhouse_dsn)
    reader = open_directory(directory, clickhouse_database)
    try:
        accesses = subject_events(reader, SUBJECT)
        violations = subject_violations(reader, SUBJECT)
        expected_events = reader.query(
            "SELECT event_id FROM access_events_unique WHERE subject_id = {s:String} "
            "ORDER BY occurred_at, event_id",
            {"s": SUBJECT},
        )
        expected_violations = reader.query(
            "SELECT violation_id FROM violations_unique "
            "WHERE subject_id = {s:String} AND mode = 'active'",
            {"s": SUBJECT},
        )
    finally:
        reader.close()
    assert [r["event_id"] for r in accesses.dicts()] == [r[0] for r in expected_events.rows]
    assert len(accesses.rows) == 6
    assert len(violations.rows) == len(expected_violations.rows) == 5
    for table in ("access_events", "violations"):  # a merge that folds the copies keeps it
        chdb_client.command(f"OPTIMIZE TABLE {clickhouse_database}.{table} FINAL")
    reader = open_directory(directory, clickhouse_database)
    try:
        assert subject_events(reader, SUBJECT).rows == accesses.rows
        assert subject_violations(reader, SUBJECT).rows == violations.rows
    finally:
        reader.close()


def test_the_event_view_shows_the_newest_copy_once(
    written: list[dict[str, Any]],
    chdb_client: Any,
    clickhouse_dsn: str,
    clickhouse_database: str,
) -> None:
    """An event emitted twice opens as the FINAL view's row, with each violation once."""
    first = written[0]
    write_events(chdb_client, clickhouse_database, [first], first_offset=900)
    reader = open_directory(chdb_directory(clickhouse_dsn), clickhouse_database)
    try:
        event, violations = event_detail(reader, first["event_id"])
        expected = reader.query(
            # What access_events_unique is, with every column the table has now but the
            # sink's write mark (its bookkeeping, not the event's).
            "SELECT * EXCEPT (sink_write) FROM access_events FINAL WHERE event_id = {e:String}",
            {"e": first["event_id"]},
        )
        missing, none = event_detail(reader, "no-such-event")
    finally:
        reader.close()
    assert event == dict(zip(expected.columns, expected.rows[0], strict=True))
    assert event["source_offset"] == 900
    assert [v["rule"] for v in violations.dicts()] == ["payroll_data_misuse"]
    assert missing is None
    assert none.rows == []


def test_until_is_exclusive_and_older_violations_stay_out(
    written: list[dict[str, Any]], clickhouse_dsn: str, clickhouse_database: str
) -> None:
    """A window ending an hour ago leaves out the newest violations, as the raw query does."""
    reader = open_directory(chdb_directory(clickhouse_dsn), clickhouse_database)
    try:
        parameters = {"since": SINCE, "until": UNTIL - timedelta(minutes=30)}
        inbox = _rows(reader.query(console_sql("issues.sql"), parameters))
        raw = _rows(reader.query(RAW_ISSUES, parameters))
    finally:
        reader.close()
    assert inbox == raw
    assert sum(r["violations"] for r in inbox) == 2 * (len(OFFSETS) - 2)
    assert max(r["last_seen"] for r in inbox) < datetime.now(UTC)
