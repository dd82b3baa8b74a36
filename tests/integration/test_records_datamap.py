"""The observed data map on the embedded ClickHouse: kept by the sink's views (backfilled once
by the migration, replays not counted), its drift from the policy appearing and clearing, and
the record of processing built from the policy and the map."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.integration.console_harness import open_test_reader
from tests.integration.records_history import (
    EVENT_COLUMNS,
    Series,
    access_row,
    seasonal_history,
    violation_row,
    write,
)

from dua_compliance import (
    DriftWindows,
    Reader,
    observed_map,
    processing_record,
    record_csv,
)
from dua_compliance.datamap import declared_pairs
from dua_policy import Policy, load_policy
from dua_sink import available_migrations, migrate

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOWS = DriftWindows(unseen_days=30, new_days=7)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
IDENTITY = Series(
    "jalan",
    "service.identity_verification",
    (("user.account.id", "personal"), ("user.name", "personal")),
    rate=4,
)
POINTS = Series(
    "hotpepper-gourmet",
    "service.points_program",
    (("user.account.id", "personal"), ("user.behavior.usage_history", "informative")),
    rate=3,
    destination_kind="CLIENT",
    destination_name="partner-restaurant",
)
PROFILING = Series(
    "hotpepper-gourmet",
    "research.profiling",
    (("user.behavior.browsing_history", "informative"),),
    rate=2,
    destination_kind="GROUP_SERVICE",
    destination_name="group-analytics",
    processing="PSEUDONYMIZED",
)
SALARY_FOR_MARKETING = Series(
    "rikunabi",
    "marketing.campaign_notice",
    (("user.name", "personal"), ("user.financial.salary", "personal")),
    rate=1,
)


@pytest.fixture
def policy() -> Policy:
    return load_policy(None)


@pytest.fixture
def database(chdb_client: Any, clickhouse_database: str) -> str:
    """A migrated database with three weeks of hourly history of three series."""
    migrate(chdb_client, clickhouse_database, retention_days=3650)
    history = seasonal_history(
        [IDENTITY, POINTS, PROFILING], end=NOW - timedelta(days=10), days=21, seed=7
    )
    write(chdb_client, clickhouse_database, history)
    return clickhouse_database


@pytest.fixture
def reader(clickhouse_dsn: str, database: str) -> Iterator[Reader]:
    found = open_test_reader(clickhouse_dsn, database)
    yield found
    found.close()


def _map(reader: Reader, policy: Policy, now: datetime = NOW, since: datetime = EPOCH) -> Any:
    return observed_map(reader, policy, since=since, now=now, windows=WINDOWS)


def _combos(data_map: Any, kind: str) -> set[tuple[str, str, str]]:
    return {(e.service, e.purpose, e.element) for e in data_map.drifted(kind)}


def test_the_map_counts_what_was_written(
    reader: Reader, policy: Policy, chdb_client: Any, database: str
) -> None:
    """Accesses and subjects per combination equal those of the written events."""
    data_map = _map(reader, policy)
    observed = {(e.service, e.purpose, e.element): e for e in data_map.entries if e.service}
    expected = chdb_client.query(
        f"SELECT service, purpose, element, count(), uniqExact(subject_id), min(occurred_at) "
        f"FROM {database}.access_events ARRAY JOIN elements AS element "
        f"GROUP BY service, purpose, element"
    ).result_rows
    assert len(expected) == len(observed) == 5
    for service, purpose, element, accesses, subjects, first in expected:
        entry = observed[(service, purpose, element)]
        assert entry.accesses == accesses
        assert abs(entry.subjects - subjects) <= subjects * 0.02  # uniq is a sketch
        assert entry.first_seen == first.replace(tzinfo=UTC)
    points = observed[("hotpepper-gourmet", "service.points_program", "user.account.id")]
    assert points.destination == "CLIENT:partner-restaurant"
    assert points.category == "personal"


def test_undeclared_use_appears_from_violations_and_clears_with_the_window(
    reader: Reader, policy: Policy, chdb_client: Any, database: str
) -> None:
    """A combination the engine flagged is undeclared; once outside the window, it is not."""
    at = NOW - timedelta(hours=5)
    event = access_row(SALARY_FOR_MARKETING, at, "f" * 64)
    violation = violation_row(event, "purpose_not_permitted", ["user.financial.salary"])
    write(chdb_client, database, [event], [violation])
    flagged = _combos(_map(reader, policy), "undeclared")
    assert flagged == {("rikunabi", "marketing.campaign_notice", "user.financial.salary")}
    # user.name for marketing.campaign_notice is declared: the same event does not flag it.
    later = _map(reader, policy, since=NOW - timedelta(hours=2))
    assert _combos(later, "undeclared") == set()


def test_new_combinations_appear_and_clear_after_the_window(
    reader: Reader, policy: Policy, chdb_client: Any, database: str
) -> None:
    """Only combinations first seen within DUA_DATAMAP_NEW_DAYS are new; later they are not."""
    assert _combos(_map(reader, policy), "new") == set()
    event = access_row(SALARY_FOR_MARKETING, NOW - timedelta(hours=1), "e" * 64)
    write(chdb_client, database, [event])
    expected = {
        ("rikunabi", "marketing.campaign_notice", "user.name"),
        ("rikunabi", "marketing.campaign_notice", "user.financial.salary"),
    }
    assert _combos(_map(reader, policy), "new") == expected
    eight_days_on = NOW + timedelta(days=WINDOWS.new_days + 1)
    assert _combos(_map(reader, policy, now=eight_days_on), "new") == set()


def test_declared_but_unseen_appears_and_clears(
    reader: Reader, policy: Policy, chdb_client: Any, database: str
) -> None:
    """Declared pairs not used for 30 days are unseen; one access clears its pair."""
    unseen = {(e.purpose, e.element) for e in _map(reader, policy).drifted("unseen")}
    # Every declared pair is unseen but those the history used, which it did 10+ days ago.
    used = {(s.purpose, code) for s in (IDENTITY, POINTS, PROFILING) for code, _ in s.elements}
    assert unseen == declared_pairs(policy) - used
    assert ("research.surveys", "user.content.survey_answer") in unseen
    survey = Series(
        "jalan", "research.surveys", (("user.content.survey_answer", "informative"),), 1
    )
    write(chdb_client, database, [access_row(survey, NOW - timedelta(hours=1), "d" * 64)])
    after = {(e.purpose, e.element) for e in _map(reader, policy).drifted("unseen")}
    assert after == unseen - {("research.surveys", "user.content.survey_answer")}
    # 40 days on, the history's pairs have not been used for 30 days either.
    much_later = _map(reader, policy, now=NOW + timedelta(days=40))
    assert {(e.purpose, e.element) for e in much_later.drifted("unseen")} == declared_pairs(policy)


def test_the_record_of_processing_follows_the_policy_and_the_map(
    reader: Reader, policy: Policy, chdb_client: Any, database: str
) -> None:
    """One activity per purpose: declared elements from the policy, the rest from the map."""
    event = access_row(SALARY_FOR_MARKETING, NOW - timedelta(hours=2), "c" * 64)
    violation = violation_row(event, "purpose_not_permitted", ["user.financial.salary"])
    write(chdb_client, database, [event], [violation])
    record = processing_record(policy, _map(reader, policy), audit_retention_days=365)
    assert [a.purpose for a in record.activities] == [p.code for p in policy.purposes]
    by_purpose = {a.purpose: a for a in record.activities}
    for purpose in policy.purposes:
        if not purpose.permits_all:
            assert set(by_purpose[purpose.code].elements_declared) == purpose.permitted
    points = by_purpose["service.points_program"]
    assert points.elements_observed == ("user.account.id", "user.behavior.usage_history")
    assert points.data_subjects == ("users of hotpepper-gourmet",)
    (client,) = points.recipients
    assert (client.kind, client.name, client.declared, client.third_party) == (
        "CLIENT",
        "partner-restaurant",
        True,
        True,
    )
    (analytics,) = by_purpose["research.profiling"].recipients
    assert (analytics.name, analytics.declared) == ("group-analytics", True)
    marketing = by_purpose["marketing.campaign_notice"]
    assert marketing.elements_undeclared == ("user.financial.salary",)
    assert marketing.recipients == ()  # INTERNAL is not a recipient
    assert "365 days" in marketing.erasure
    assert "3 years" in marketing.erasure
    assert by_purpose["research.surveys"].accesses == 0
    text = record_csv(record)
    assert text.splitlines()[0].startswith("purpose,purpose_ja,purpose_en")
    assert "CLIENT:partner-restaurant (third party)" in text


def test_a_replayed_batch_adds_nothing_to_the_rollups(
    chdb_client: Any, reader: Reader, policy: Policy, database: str
) -> None:
    """The same insert with the same deduplication token counts once in the map and volumes."""
    rows = [
        access_row(SALARY_FOR_MARKETING, NOW - timedelta(hours=1), f"{i:064x}") for i in range(5)
    ]
    for _ in range(3):
        chdb_client.insert(
            f"{database}.access_events",
            rows,
            column_names=EVENT_COLUMNS,
            settings={"insert_deduplication_token": "replayed-range"},
        )
    entry = next(
        e
        for e in _map(reader, policy).entries
        if (e.service, e.element) == ("rikunabi", "user.financial.salary")
    )
    assert entry.accesses == 5
    volume = chdb_client.command(
        f"SELECT sum(accesses) FROM {database}.volume_hourly WHERE service = 'rikunabi'"
    )
    assert int(volume) == 5


def test_the_migration_backfills_existing_rows_once(
    chdb_client: Any, clickhouse_database: str
) -> None:
    """Rows written before migration 005 are in the rollups once, even if 005 runs again."""
    database = clickhouse_database
    before = tuple(m for m in available_migrations() if m.version < 5)
    import dua_sink.migrations as migrations  # noqa: PLC0415 - patched for this test only

    original = migrations.available_migrations
    migrations.available_migrations = lambda: before
    try:
        migrate(chdb_client, database, retention_days=3650)
    finally:
        migrations.available_migrations = original
    rows = seasonal_history([IDENTITY], end=NOW, days=2, seed=3)
    write(chdb_client, database, rows)
    assert migrate(chdb_client, database, retention_days=3650).applied[-1].version >= 5
    (fifth,) = [m for m in available_migrations() if m.version == 5]
    for statement in fifth.statements(database, 3650):  # an interrupted run, done again
        chdb_client.command(statement)
    mapped = chdb_client.command(
        f"SELECT sum(accesses) FROM {database}.datamap_hourly WHERE element = 'user.name'"
    )
    volume = chdb_client.command(f"SELECT sum(accesses) FROM {database}.volume_hourly")
    assert int(mapped) == int(volume) == len(rows)
