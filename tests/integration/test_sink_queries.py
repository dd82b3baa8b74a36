"""The compliance team's questions on a known data set: saved queries, subject lookup, report,
and the read-only endpoint in front of them."""

from __future__ import annotations

import shutil
import subprocess
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dua.read_path import open_directory
from dua_compliance import (
    QueryError,
    QueryRefused,
    Reader,
    collect_report,
    render_html,
    render_text,
    run_saved,
    subject_accesses,
)
from dua_compliance.http_reader import HttpReader
from dua_schemas import WireCodec
from dua_sink import AuditStore, PartitionBuffer, RecordRouter, SinkTopics, migrate
from dua_sink import QueryError as EngineQueryError
from dua_sink.chdb_engine import ReadOnlyChdb
from dua_sink.connection import chdb_directory, is_chdb
from dua_sink.query_endpoint import QueryEndpoint
from dua_sink.row_mapping import Source
from dua_sink.testing import tagged_event, violation_record, violation_summary

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
SINCE = NOW - timedelta(days=7)
SUBJECT = "a" * 64
TOPICS = SinkTopics("q.tagged", "q.violations", "q.dlq")


def _el(code: str, category: str) -> dict[str, Any]:
    return {"code": code, "category": category, "sensitivity": None}


SALARY = _el("user.financial.salary", "personal")
BANK = _el("user.financial.bank_account", "personal")
NAME = _el("user.name", "personal")
EMAIL = _el("user.contact.email", "personal")
BROWSING = _el("user.behavior.browsing_history", "informative")
USAGE = _el("user.behavior.usage_history", "informative")
AD_ID = _el("user.device.ad_id", "informative")


def _event(
    service: str, purpose: str, elements: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    rules = extra.pop("rules", [])
    return tagged_event(
        service=service,
        purpose=purpose,
        purpose_category=purpose.split(".", maxsplit=1)[0],
        elements=elements,
        occurred_at=extra.pop("occurred_at", NOW - timedelta(hours=1)),
        processed_at=NOW,
        violations=[violation_summary(rule, severity) for rule, severity in rules],
        **extra,
    )


def _known_events() -> list[dict[str, Any]]:
    payroll_ok = [
        _event(
            "airwork-payroll",
            "service.payroll_transfer",
            [NAME, SALARY, BANK],
            destination={"kind": "FINANCIAL_INSTITUTION", "name": "bank"},
        )
        for _ in range(3)
    ]
    payroll_misuse = [
        _event(
            "rikunabi",
            "marketing.campaign_notice",
            [SALARY],
            rules=[("payroll_data_misuse", "critical")],
            subject_id=SUBJECT,
        )
        for _ in range(2)
    ]
    identification = [
        _event(
            "jalan",
            "service.identity_verification",
            [NAME, BROWSING],
            rules=[("informative_used_for_identification", "high")],
            subject_id=SUBJECT,
        ),
        _event(
            "jalan",
            "service.identity_verification",
            [NAME, BROWSING],
            rules=[("informative_used_for_identification", "high")],
        ),
        _event(
            "hotpepper-gourmet",
            "research.profiling",
            [NAME, USAGE],
            operation="JOIN",
            rules=[("informative_used_for_identification", "high")],
        ),
        _event("jalan", "fraud_prevention.investigation", [NAME, BROWSING]),
    ]
    cross_use = [
        _event(
            "hotpepper-beauty",
            "research.profiling",
            [USAGE],
            origin_service="jalan",
            processing="PSEUDONYMIZED",
        ),
        _event(
            "hotpepper-beauty",
            "research.profiling",
            [USAGE],
            origin_service="jalan",
            processing="PSEUDONYMIZED",
        ),
        _event(
            "rikunabi",
            "marketing.campaign_notice",
            [EMAIL],
            origin_service="zexy-enmusubi",
            rules=[("cross_use_out_of_scope", "medium")],
        ),
    ]
    external = [
        _event(
            "carsensor",
            "marketing.targeted_advertising",
            [EMAIL, AD_ID],
            destination={"kind": "AD_PLATFORM", "name": "adnet"},
            rules=[("personal_data_to_ad_platform", "critical")],
            subject_id=SUBJECT,
        ),
        _event(
            "carsensor",
            "publication.rankings_trends",
            [USAGE],
            processing="STATISTICAL",
            destination={"kind": "PUBLIC", "name": None},
        ),
    ]
    old = [
        _event(
            "jalan",
            "service.identity_verification",
            [NAME, BROWSING],
            occurred_at=NOW - timedelta(days=30),
            subject_id=SUBJECT,
            rules=[("informative_used_for_identification", "high")],
        )
    ]
    return payroll_ok + payroll_misuse + identification + cross_use + external + old


def _write(store: AuditStore, topic: str, record_name: str, records: list[dict[str, Any]]) -> None:
    codec = WireCodec()
    router = RecordRouter(TOPICS, codec)
    buffer = PartitionBuffer(topic, 0)
    buffer.plan = []
    for offset, record in enumerate(records):
        payload = codec.encode(record_name, record)
        buffer.add(
            offset, router.route(Source(topic, 0, offset, NOW), payload, None), zlib.crc32(payload)
        )
    for segment in buffer.cut(1000, due=True):
        store.write(segment)


@pytest.fixture
def known_data(chdb_client: Any, clickhouse_database: str) -> list[dict[str, Any]]:
    """The known data set, written through the sink's own store."""
    migrate(chdb_client, clickhouse_database, retention_days=3650)
    store = AuditStore(chdb_client, clickhouse_database, "queries")
    events = _known_events()
    violations = [
        violation_record(event, v["rule"], v["severity"])
        for event in events
        for v in event["violations"]
    ]
    violations[0]["detected_late_ms"] = 3_600_000  # found by an opt-out spooled for an hour
    _write(store, TOPICS.tagged, "TaggedAccessEvent", events)
    _write(store, TOPICS.violations, "Violation", violations)
    return events


@pytest.fixture
def reader(clickhouse_dsn: str, clickhouse_database: str) -> Iterator[Reader]:
    """A reader on the session's engine: a readonly chDB handle, or HTTP to a server."""
    found: Reader
    if is_chdb(clickhouse_dsn):
        found = open_directory(chdb_directory(clickhouse_dsn), clickhouse_database)
    else:
        found = HttpReader.from_dsn(clickhouse_dsn, clickhouse_database)
    yield found
    found.close()


def _rows(reader: Reader, name: str, *columns: str) -> list[tuple[Any, ...]]:
    result = run_saved(reader, name, SINCE)
    return [tuple(row[c] for c in columns) for row in result.dicts()]


@pytest.mark.usefixtures("known_data")
def test_payroll_access(reader: Reader) -> None:
    """Who touched salary/bank data and for what, within the window."""
    assert _rows(
        reader,
        "payroll_access",
        "service",
        "purpose",
        "payroll_elements",
        "accesses",
        "with_violations",
    ) == [
        (
            "airwork-payroll",
            "service.payroll_transfer",
            "user.financial.bank_account,user.financial.salary",
            3,
            0,
        ),
        ("rikunabi", "marketing.campaign_notice", "user.financial.salary", 2, 2),
    ]


@pytest.mark.usefixtures("known_data")
def test_informative_identification(reader: Reader) -> None:
    """Identity verification on informative data and JOINs count; fraud investigation and
    events outside the window do not."""
    assert _rows(
        reader,
        "informative_identification",
        "service",
        "operation",
        "informative_elements",
        "accesses",
        "flagged",
    ) == [
        ("jalan", "READ", "user.behavior.browsing_history", 2, 2),
        ("hotpepper-gourmet", "JOIN", "user.behavior.usage_history", 1, 1),
    ]


@pytest.mark.usefixtures("known_data")
def test_purpose_category_matrix(reader: Reader) -> None:
    """Element accesses per purpose category and data category, from the hourly aggregate."""
    rows = _rows(
        reader,
        "purpose_category_matrix",
        "purpose_category",
        "personal",
        "informative",
        "unknown",
        "total",
    )
    assert rows == [
        ("service", 11, 2, 0, 13),
        ("marketing", 4, 1, 0, 5),
        ("research", 1, 3, 0, 4),
        ("fraud_prevention", 1, 1, 0, 2),
        ("publication", 0, 1, 0, 1),
    ]


@pytest.mark.usefixtures("known_data")
def test_violations_by_rule_service(reader: Reader) -> None:
    """Critical first, then by count; the 30-day-old violation is outside the window."""
    assert _rows(
        reader, "violations_by_rule_service", "rule", "severity", "service", "active_violations"
    ) == [
        ("payroll_data_misuse", "critical", "rikunabi", 2),
        ("personal_data_to_ad_platform", "critical", "carsensor", 1),
        ("informative_used_for_identification", "high", "jalan", 2),
        ("informative_used_for_identification", "high", "hotpepper-gourmet", 1),
        ("cross_use_out_of_scope", "medium", "rikunabi", 1),
    ]


@pytest.mark.usefixtures("known_data")
def test_violations_found_late(reader: Reader) -> None:
    """Only the violation a late consent change found, with its delay."""
    rows = _rows(reader, "violations_found_late", "rule", "violations", "longest_delay_ms")
    assert rows == [("payroll_data_misuse", 1, 3_600_000)]


@pytest.mark.usefixtures("known_data")
def test_cross_use(reader: Reader) -> None:
    """Data used by a service other than the one that collected it, flagged when out of scope."""
    assert _rows(reader, "cross_use", "origin_service", "service", "accesses", "out_of_scope") == [
        ("jalan", "hotpepper-beauty", 2, 0),
        ("zexy-enmusubi", "rikunabi", 1, 1),
    ]


@pytest.mark.usefixtures("known_data")
def test_external_destinations(reader: Reader) -> None:
    """Ad platforms and the public appear; internal and bank transfers do not."""
    assert _rows(
        reader,
        "external_destinations",
        "destination_kind",
        "destination_name",
        "service",
        "accesses",
        "with_personal_data",
        "personal_elements",
    ) == [
        ("AD_PLATFORM", "adnet", "carsensor", 1, 1, "user.contact.email"),
        ("PUBLIC", "", "carsensor", 1, 0, ""),
    ]


@pytest.mark.usefixtures("known_data")
def test_subject_accesses_list_every_access_with_its_verdict(reader: Reader) -> None:
    """All four accesses to the subject's data, oldest first, each with its verdict."""
    result = subject_accesses(reader, SUBJECT, datetime(1970, 1, 1, tzinfo=UTC))
    rows = [(r["service"], r["purpose"], r["destination"], r["verdict"]) for r in result.dicts()]
    assert rows[0] == (
        "jalan",
        "service.identity_verification",
        "INTERNAL",
        "violation: informative_used_for_identification",
    )
    assert sorted(rows[1:]) == [
        (
            "carsensor",
            "marketing.targeted_advertising",
            "AD_PLATFORM:adnet",
            "violation: personal_data_to_ad_platform",
        ),
        (
            "jalan",
            "service.identity_verification",
            "INTERNAL",
            "violation: informative_used_for_identification",
        ),
        ("rikunabi", "marketing.campaign_notice", "INTERNAL", "violation: payroll_data_misuse"),
        ("rikunabi", "marketing.campaign_notice", "INTERNAL", "violation: payroll_data_misuse"),
    ]


def test_read_endpoint_answers_reads_and_clickhouse_itself_refuses_writes(
    known_data: list[dict[str, Any]], clickhouse_dsn: str, clickhouse_database: str
) -> None:
    """Through the endpoint: a saved query answers; writes are refused by the guard, and by
    ClickHouse's readonly=1 for what the guard lets through."""
    if not is_chdb(clickhouse_dsn):
        pytest.skip("the read endpoint exists only for the embedded engine")
    engine = ReadOnlyChdb(chdb_directory(clickhouse_dsn), clickhouse_database)
    endpoint = QueryEndpoint(engine)
    endpoint.start()
    try:
        http = HttpReader(f"http://127.0.0.1:{endpoint.port}/", clickhouse_database)
        assert run_saved(http, "cross_use", SINCE).rows
        count = "SELECT count() FROM access_events"
        assert http.query(count).rows == [(len(known_data),)]
        # An empty string is a value, not a missing parameter (a backtest's first cursor).
        assert http.query("SELECT length({s:String})", {"s": ""}).rows == [(0,)]
        with pytest.raises(QueryRefused, match="INSERT"):
            http.query("INSERT INTO access_events (event_id) VALUES ('x')")
        with pytest.raises(QueryError, match="READONLY"):
            http.query("SELECT 1 SETTINGS readonly = 0")
        # The handle itself, without the guard in front: ClickHouse refuses the write.
        with pytest.raises(EngineQueryError, match="READONLY"):
            engine.execute("INSERT INTO access_events (event_id) VALUES ('x')", {}, "TSV")
        with pytest.raises(EngineQueryError, match="READONLY"):
            engine.execute("DROP TABLE access_events", {}, "TSV")
        assert http.query(count).rows == [(len(known_data),)]
    finally:
        endpoint.stop()
        engine.close()


@pytest.mark.usefixtures("known_data")
def test_html_report_is_self_contained_and_renders_offline(reader: Reader, tmp_path: Path) -> None:
    """One file, no external reference; headless Chromium with no network renders its charts."""
    data = collect_report(reader, SINCE, NOW)
    assert data.totals.events == len(_known_events()) - 1
    assert data.totals.critical == 3
    html = render_html(data)
    for forbidden in ("http://", "https://", "<script", "src=", "@import", "url("):
        assert forbidden not in html
    assert html.count("<svg") == 4
    # the violation a late consent change found has a section of its own, with its delay
    assert data.found_late == [("payroll_data_misuse", "rikunabi", 1, 3_600_000)]
    late_section = html.split('<section id="found-late">', 1)[1]
    assert "payroll_data_misuse" in late_section
    assert "3600000" in late_section
    assert "up to 3,600.0 s late" in render_text(data)
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip(
            "chromium is not installed (apt-get install chromium); self-containment checked"
        )
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--proxy-server=127.0.0.1:9",  # nothing answers there: any fetch would fail
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Data usage audit" in done.stdout
    assert done.stdout.count("<svg") == 4
    assert "payroll_data_misuse" in done.stdout
