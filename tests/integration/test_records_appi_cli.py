"""`dua records appi` on the embedded ClickHouse: the window's provision records in CSV and
JSON, page after page, and a clear error for a window it cannot read."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.integration.console_harness import open_test_reader
from tests.integration.provision_history import ADS, CONSENTING, NOW, tagged, write

from dua.cli import cli
from dua_compliance import appi_records
from dua_sink import AuditStore, migrate

pytestmark = pytest.mark.integration

LINKING = {"kind": "AD_PLATFORM", "name": "google-ads"}


@pytest.fixture
def environment(
    chdb_client: Any,
    clickhouse_database: str,
    clickhouse_dsn: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five provisions over three days and one internal access; DUA_* pointing there."""
    migrate(chdb_client, clickhouse_database, retention_days=3650)
    store = AuditStore(chdb_client, clickhouse_database, "test-group")
    write(
        store,
        [
            tagged("p-internal", {"kind": "INTERNAL", "name": None}, NOW - timedelta(hours=1)),
            tagged("p-old", {"kind": "CLIENT", "name": "partner-salon"}, NOW - timedelta(days=3)),
            tagged("p-broker", {"kind": "CLIENT", "name": "data-broker"}, NOW - timedelta(hours=5)),
            tagged(CONSENTING, LINKING, NOW - timedelta(hours=4)),
            tagged("p-refused", LINKING, NOW - timedelta(hours=3)),
            tagged(
                "p-ads", {"kind": "AD_PLATFORM", "name": "ad-network"}, NOW - timedelta(hours=2)
            ),
        ],
    )
    monkeypatch.setenv("DUA_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("DUA_CLICKHOUSE_DSN", clickhouse_dsn)
    monkeypatch.setenv("DUA_CLICKHOUSE_DATABASE", clickhouse_database)


def _run(*args: str) -> Result:
    result = CliRunner().invoke(cli, ["records", "appi", *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.usefixtures("environment")
def test_csv_lists_the_window_oldest_first() -> None:
    """Every third-party provision of the last day, oldest first, with what Art. 29 asks."""
    rows = list(csv.DictReader(io.StringIO(_run("--since", "1d").output)))
    assert [r["subject_pseudonym"] for r in rows] == ["p-broker", CONSENTING, "p-refused", "p-ads"]
    broker = rows[0]
    assert (broker["recipient_kind"], broker["recipient_name"]) == ("CLIENT", "data-broker")
    assert broker["recipient_registered"] == "False"
    assert broker["items"] == ";".join(ADS)
    assert (broker["basis"], broker["consented"]) == ("consent", "True")
    assert [r["art31_confirmation"] for r in rows] == ["", "confirmed", "not confirmed", ""]
    assert rows[1]["recipient_address"]


@pytest.mark.usefixtures("environment")
def test_json_with_an_until() -> None:
    """JSON, one object per record; --until (a date or a time with a zone) ends the window."""
    until = (NOW - timedelta(hours=3, minutes=30)).isoformat()
    records = json.loads(_run("--since", "7d", "--until", until, "--format", "json").output)
    assert [r["subject_pseudonym"] for r in records] == ["p-old", "p-broker", CONSENTING]
    assert records[0]["items"] == ADS
    assert records[0]["recipient_registered"] is True


@pytest.mark.usefixtures("environment")
def test_an_empty_window_is_an_empty_list() -> None:
    """No provision in the window: a header alone, or an empty JSON array."""
    future = (NOW + timedelta(days=1)).date().isoformat()
    assert _run("--since", future, "--format", "json").output == "[]\n"
    assert _run("--since", future).output.count("\n") == 1


@pytest.mark.usefixtures("environment")
def test_a_bad_since_is_refused_with_its_option() -> None:
    """A value that is neither a duration nor a date names the option."""
    result = CliRunner().invoke(cli, ["records", "appi", "--since", "yesterday"])
    assert result.exit_code != 0
    assert "--since 'yesterday'" in str(result.exception)


def test_pages_follow_each_other_without_loss(
    chdb_client: Any, clickhouse_database: str, clickhouse_dsn: str
) -> None:
    """Read two rows per query, the window comes out whole, in order, each record once."""
    migrate(chdb_client, clickhouse_database, retention_days=3650)
    store = AuditStore(chdb_client, clickhouse_database, "test-group")
    at = NOW - timedelta(hours=1)  # several in the same millisecond: the event id orders them
    write(
        store, [tagged(f"p{i}", {"kind": "CLIENT", "name": "partner-salon"}, at) for i in range(7)]
    )
    reader = open_test_reader(clickhouse_dsn, clickhouse_database)
    try:
        paged = list(appi_records(reader, NOW - timedelta(days=1), NOW, page=2))
    finally:
        reader.close()
    assert sorted(r["subject_pseudonym"] for r in paged) == [f"p{i}" for i in range(7)]
    assert [r["event_id"] for r in paged] == sorted(r["event_id"] for r in paged)
