"""APPI provision records in the embedded ClickHouse: made at ingest from the engine's
decision, one per third-party access, none for internal or joint-use accesses, and kept
three years while the audit tables expire with their own retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.integration.provision_history import ADS, CONSENTING, NOW, tagged, write

from dua_sink import AuditStore, migrate

pytestmark = pytest.mark.integration


def _rows(client: Any, database: str, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in client.query(sql.format(db=database)).result_rows]


@pytest.fixture
def store(chdb_client: Any, clickhouse_database: str) -> AuditStore:
    migrate(chdb_client, clickhouse_database, retention_days=30)
    return AuditStore(chdb_client, clickhouse_database, "test-group")


def test_a_record_for_every_third_party_access_and_none_else(
    store: AuditStore, chdb_client: Any, clickhouse_database: str
) -> None:
    """Third parties get a record with recipient, person, items and basis; INTERNAL and a
    joint-use group service get none."""
    at = NOW - timedelta(hours=1)
    write(
        store,
        [
            tagged("p1", {"kind": "INTERNAL", "name": None}, at),
            tagged("p2", {"kind": "GROUP_SERVICE", "name": "jalan"}, at),  # joint use
            tagged("p3", {"kind": "AD_PLATFORM", "name": "ad-network"}, at),
            tagged("p4", {"kind": "CLIENT", "name": "data-broker"}, at),  # undeclared
            tagged("p5", {"kind": "GROUP_SERVICE", "name": "group-analytics"}, at),
        ],
    )
    rows = _rows(
        chdb_client,
        clickhouse_database,
        "SELECT subject_id, recipient_kind, recipient_name, recipient_registered, basis,"
        " elements, service, purpose, policy_version != '' FROM {db}.appi_provisions FINAL"
        " ORDER BY subject_id",
    )
    assert [r[:5] for r in rows] == [
        ("p3", "AD_PLATFORM", "ad-network", True, "consent"),
        ("p4", "CLIENT", "data-broker", False, "consent"),
        ("p5", "GROUP_SERVICE", "group-analytics", True, "consent"),
    ]
    assert all(r[5] == ADS and r[6] == "hotpepper-gourmet" and r[7] and r[8] for r in rows)


def test_art31_confirmation_both_ways(
    store: AuditStore, chdb_client: Any, clickhouse_database: str
) -> None:
    """Informative data to a linking recipient: confirmed for the consenting person, a rule 16
    violation (and an unconfirmed record) for the other."""
    at = NOW - timedelta(hours=1)
    linking = {"kind": "AD_PLATFORM", "name": "google-ads"}
    write(store, [tagged(CONSENTING, linking, at), tagged("refused", linking, at)])
    rows = _rows(
        chdb_client,
        clickhouse_database,
        "SELECT subject_id, linkable, link_consent, recipient_address != '',"
        " recipient_representative != '' FROM {db}.appi_provisions FINAL ORDER BY subject_id",
    )
    assert rows == [("consented", True, True, True, True), ("refused", True, False, True, True)]
    flagged = _rows(
        chdb_client,
        clickhouse_database,
        "SELECT subject_id FROM {db}.access_events"
        " WHERE has(violation_rules, 'linkable_provision_without_consent')",
    )
    assert flagged == [("refused",)]


def test_records_outlive_the_audit_tables_retention(
    store: AuditStore, chdb_client: Any, clickhouse_database: str
) -> None:
    """With a 30-day audit retention, a 400-day-old access expires from access_events while
    its provision record stays; a record past three years expires too."""
    client = chdb_client
    ads = {"kind": "AD_PLATFORM", "name": "ad-network"}
    write(
        store,
        [
            tagged("recent", ads, NOW - timedelta(days=1)),
            tagged("old", ads, NOW - timedelta(days=400)),
            tagged("ancient", ads, NOW - timedelta(days=1200)),
        ],
    )
    for table in ("access_events", "appi_provisions"):
        client.command(f"OPTIMIZE TABLE {clickhouse_database}.{table} FINAL")
    events = _rows(client, clickhouse_database, "SELECT subject_id FROM {db}.access_events")
    records = _rows(
        client,
        clickhouse_database,
        "SELECT subject_id FROM {db}.appi_provisions ORDER BY subject_id",
    )
    assert events == [("recent",)]
    assert records == [("old",), ("recent",)]


def test_the_ttl_is_three_years_whatever_the_retention(
    chdb_client: Any, clickhouse_database: str
) -> None:
    """The provision table's TTL is its own: migrating with another retention leaves it."""
    migrate(chdb_client, clickhouse_database, retention_days=7)
    migrate(chdb_client, clickhouse_database, retention_days=90)
    (engine,) = _rows(
        chdb_client,
        clickhouse_database,
        "SELECT engine_full FROM system.tables WHERE database = '{db}'"
        " AND name = 'appi_provisions'",
    )
    assert "toIntervalDay(1096)" in engine[0]
