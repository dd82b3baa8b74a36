"""Volume anomalies on the embedded ClickHouse, over weeks of generated hourly traffic with a
daily season and realistic noise: a planted bulk export is found, a clean history raises
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.integration.console_harness import open_test_reader
from tests.integration.records_history import Series, seasonal_history, spike, write

from dua_compliance import AnomalyConfig, Reader, find_anomalies
from dua_sink import migrate

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(minutes=30)
CONFIG = AnomalyConfig(baseline_days=14, min_baseline_days=3, threshold=6.0, min_accesses=20)
SERIES = [
    Series("jalan", "marketing.campaign_notice", (("user.contact.email", "personal"),), 25),
    Series(
        "jalan",
        "research.profiling",
        (
            ("user.behavior.browsing_history", "informative"),
            ("user.demographic.attributes", "informative"),
        ),
        40,
        processing="PSEUDONYMIZED",
    ),
    Series("rikunabi", "service.identity_verification", (("user.name", "personal"),), 8),
    Series(
        "hotpepper-gourmet",
        "service.points_program",
        (("user.account.id", "personal"), ("user.behavior.usage_history", "informative")),
        15,
        destination_kind="CLIENT",
        destination_name="partner-restaurant",
    ),
]


@pytest.fixture(params=[11, 23, 47])
def history(
    request: pytest.FixtureRequest, chdb_client: Any, clickhouse_database: str, clickhouse_dsn: str
) -> Iterator[tuple[Any, str, Reader]]:
    """Three weeks of seasonal, noisy traffic of four series (three random seeds)."""
    migrate(chdb_client, clickhouse_database, retention_days=3650)
    end = NOW.replace(minute=0)
    write(
        chdb_client,
        clickhouse_database,
        seasonal_history(SERIES, end=end, days=21, seed=request.param),
    )
    reader = open_test_reader(clickhouse_dsn, clickhouse_database)
    yield chdb_client, clickhouse_database, reader
    reader.close()


def test_a_clean_seasonal_history_raises_no_anomaly(history: tuple[Any, str, Reader]) -> None:
    """A week of hours judged against their season: evening peaks and noisy days are no alarm."""
    _client, _database, reader = history
    assert find_anomalies(reader, since=NOW - timedelta(days=7), now=NOW, config=CONFIG) == []


def test_a_bulk_export_spike_is_found(history: tuple[Any, str, Reader]) -> None:
    """A burst of EXPORT accesses in one hour is flagged for its series, in that hour only."""
    client, database, reader = history
    hour = NOW.replace(minute=0) - timedelta(hours=3)
    write(client, database, spike(SERIES[0], hour, 400, seed=5))
    found = find_anomalies(reader, since=NOW - timedelta(days=1), now=NOW, config=CONFIG)
    assert {(a.hour, a.service, a.purpose_category, a.category) for a in found} == {
        (hour, "jalan", "marketing", "personal")
    }
    assert {a.measure for a in found} == {"accesses", "subjects"}
    accesses = next(a for a in found if a.measure == "accesses")
    assert accesses.observed > 400
    assert accesses.baseline < 100
    assert accesses.score > CONFIG.threshold


def test_a_series_without_history_is_not_judged(history: tuple[Any, str, Reader]) -> None:
    """A new series has no baseline: its first busy hour is not an anomaly (drift reports it)."""
    client, database, reader = history
    fresh = Series(
        "carsensor", "publication.rankings_trends", (("user.content.review", "informative"),), 1
    )
    write(client, database, spike(fresh, NOW.replace(minute=0) - timedelta(hours=1), 300, seed=9))
    assert find_anomalies(reader, since=NOW - timedelta(hours=6), now=NOW, config=CONFIG) == []
