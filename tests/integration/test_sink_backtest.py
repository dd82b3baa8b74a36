"""A policy backtest replays stored events and reports findings that appear or vanish."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dua.read_path import open_directory
from dua_compliance import Reader, backtest, render_backtest, stored_events
from dua_compliance.http_reader import HttpReader
from dua_policy import load_policy
from dua_schemas import WireCodec
from dua_sink import AuditStore, PartitionBuffer, RecordRouter, SinkTopics, migrate
from dua_sink.connection import chdb_directory, is_chdb
from dua_sink.row_mapping import Source
from dua_sink.testing import tagged_event, violation_summary

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
TOPICS = SinkTopics("b.tagged", "b.violations", "b.dlq")


def _el(code: str, category: str) -> dict[str, Any]:
    return {"code": code, "category": category, "sensitivity": None}


def _store(chdb_client: Any, database: str, events: list[dict[str, Any]]) -> None:
    migrate(chdb_client, database, retention_days=3650)
    store = AuditStore(chdb_client, database, "backtest")
    codec = WireCodec()
    router = RecordRouter(TOPICS, codec)
    buffer = PartitionBuffer(TOPICS.tagged, 0)
    buffer.plan = []
    for offset, event in enumerate(events):
        payload = codec.encode("TaggedAccessEvent", event)
        buffer.add(
            offset,
            router.route(Source(TOPICS.tagged, 0, offset, NOW), payload, None),
            zlib.crc32(payload),
        )
    for segment in buffer.cut(1000, due=True):
        store.write(segment)


def _reader(dsn: str, database: str) -> Reader:
    if is_chdb(dsn):
        return open_directory(chdb_directory(dsn), database)
    return HttpReader.from_dsn(dsn, database)


def test_new_and_vanished_findings_by_rule_and_service(
    chdb_client: Any, clickhouse_dsn: str, clickhouse_database: str
) -> None:
    """Under the default policy: a missed identification finding is new, a wrong payroll one
    vanishes, and a correct one is unchanged; old events stay outside the window."""
    at = NOW - timedelta(hours=2)
    missed = tagged_event(
        service="jalan",
        purpose="service.identity_verification",
        purpose_category="service",
        elements=[
            _el("user.name", "personal"),
            _el("user.behavior.browsing_history", "informative"),
        ],
        occurred_at=at,
    )
    wrong = tagged_event(
        service="airwork-payroll",
        purpose="service.payroll_transfer",
        purpose_category="service",
        elements=[_el("user.account.id", "personal"), _el("user.financial.salary", "personal")],
        destination={"kind": "FINANCIAL_INSTITUTION", "name": "bank"},
        violations=[violation_summary("payroll_data_misuse", "critical")],
        occurred_at=at + timedelta(seconds=1),
    )
    kept = tagged_event(
        service="rikunabi",
        purpose="marketing.campaign_notice",
        purpose_category="marketing",
        elements=[_el("user.financial.salary", "personal")],
        violations=[
            violation_summary("payroll_data_misuse", "critical"),
            violation_summary("purpose_not_permitted", "medium"),
        ],
        occurred_at=at + timedelta(seconds=2),
    )
    old = dict(missed, event_id="old-event", occurred_at=NOW - timedelta(days=60))
    _store(chdb_client, clickhouse_database, [missed, wrong, kept, old])

    reader = _reader(clickhouse_dsn, clickhouse_database)
    try:
        replayed = list(stored_events(reader, NOW - timedelta(days=30), page_rows=2))
        result = backtest(replayed, load_policy())
    finally:
        reader.close()

    assert [s.event["event_id"] for s in replayed] == [
        missed["event_id"],
        wrong["event_id"],
        kept["event_id"],
    ]
    assert result.events == 3
    # Rules are independent: browsing history is also not permitted for identity checks.
    assert [(c.rule, c.service, c.events, c.samples) for c in result.new] == [
        ("informative_used_for_identification", "jalan", 1, (missed["event_id"],)),
        ("purpose_not_permitted", "jalan", 1, (missed["event_id"],)),
    ]
    assert [(c.rule, c.service, c.events) for c in result.vanished] == [
        ("payroll_data_misuse", "airwork-payroll", 1)
    ]
    assert result.unchanged == 2
    text = render_backtest(result)
    assert "informative_used_for_identification" in text
    assert missed["event_id"] in text
