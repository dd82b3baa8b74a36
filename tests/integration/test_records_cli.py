"""`dua datamap`, `dua records ropa` and `dua anomalies` in every format, on the embedded
ClickHouse, and the notifier's records check wired to the same settings."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.integration.records_history import (
    Series,
    access_row,
    seasonal_history,
    spike,
    violation_row,
    write,
)

from dua.cli import cli
from dua.records_wiring import findings_source
from dua.settings import load_settings
from dua_sink import migrate

pytestmark = pytest.mark.integration

HOUR = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
EXPORTS = Series(
    "jalan",
    "marketing.campaign_notice",
    (("user.contact.email", "personal"),),
    20,
    destination_kind="AD_PLATFORM",
    destination_name="meta-ads",
)
SALARY = Series(
    "rikunabi", "marketing.campaign_notice", (("user.financial.salary", "personal"),), 1
)


@pytest.fixture
def environment(
    chdb_client: Any,
    clickhouse_database: str,
    clickhouse_dsn: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two weeks of history, one hour's bulk export and one undeclared use; DUA_* pointing there."""
    migrate(chdb_client, clickhouse_database, retention_days=3650)
    write(chdb_client, clickhouse_database, seasonal_history([EXPORTS], end=HOUR, days=14, seed=8))
    write(chdb_client, clickhouse_database, spike(EXPORTS, HOUR, 300, seed=2))
    event = access_row(SALARY, HOUR, "a" * 64)
    violation = violation_row(event, "purpose_not_permitted", ["user.financial.salary"])
    write(chdb_client, clickhouse_database, [event], [violation])
    monkeypatch.setenv("DUA_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("DUA_CLICKHOUSE_DSN", clickhouse_dsn)
    monkeypatch.setenv("DUA_CLICKHOUSE_DATABASE", clickhouse_database)
    monkeypatch.setenv("DUA_RETENTION_DAYS", "400")


def _run(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.usefixtures("environment")
def test_datamap_in_every_format() -> None:
    """Table with drift counts, CSV and JSON rows with the drift column, a self-contained page."""
    table = _run("datamap").output
    assert table.startswith("data map: 2 combinations observed; drift: 1 undeclared, 1 new in 7d")
    rows = list(csv.DictReader(io.StringIO(_run("datamap", "--format", "csv").output)))
    salary = next(r for r in rows if r["element"] == "user.financial.salary")
    assert (salary["service"], salary["drift"], salary["accesses"]) == (
        "rikunabi",
        "undeclared,new",
        "1",
    )
    email = next(r for r in rows if r["service"] == "jalan")
    assert email["destination"] == "AD_PLATFORM:meta-ads"
    assert email["drift"] == ""  # seen for two weeks: not new
    assert {r["drift"] for r in rows if not r["service"]} == {"unseen"}
    documents = json.loads(_run("datamap", "--since", "2h", "--format", "json").output)
    assert {d["service"] for d in documents if d["service"]} == {"jalan", "rikunabi"}
    page = _run("datamap", "--format", "html").output
    assert page.startswith("<!DOCTYPE html>")
    assert '<tr class="undeclared new">' in page
    assert "://" not in page  # no outside resource


@pytest.mark.usefixtures("environment")
def test_records_ropa_as_json_and_csv() -> None:
    """One activity per purpose, the retention setting and the observed recipients."""
    record = json.loads(_run("records", "ropa").output)
    assert record["audit_retention_days"] == 400
    marketing = next(a for a in record["activities"] if a["purpose"] == "marketing.campaign_notice")
    assert marketing["data_subjects"] == ["users of jalan", "users of rikunabi"]
    assert marketing["elements_undeclared"] == ["user.financial.salary"]
    assert marketing["recipients"] == [
        {
            "kind": "AD_PLATFORM",
            "name": "meta-ads",
            "declared": True,
            "third_party": True,
            "address": "Menlo Park, California, USA",
            "representative": "Chief executive officer",
        }
    ]
    rows = list(csv.DictReader(io.StringIO(_run("records", "ropa", "--format", "csv").output)))
    assert len(rows) == len(record["activities"])
    assert "400 days" in rows[0]["erasure"]


@pytest.mark.usefixtures("environment")
def test_anomalies_in_every_format() -> None:
    """The bulk export hour, for accesses and subjects, in a table, CSV and JSON."""
    table = _run("anomalies", "--since", "6h").output
    assert table.startswith("2 volume anomalies since 6h ago")
    rows = list(csv.DictReader(io.StringIO(_run("anomalies", "--format", "csv").output)))
    assert {(r["service"], r["purpose_category"], r["measure"]) for r in rows} == {
        ("jalan", "marketing", "accesses"),
        ("jalan", "marketing", "subjects"),
    }
    documents = json.loads(_run("anomalies", "--since", "2d", "--format", "json").output)
    assert all(d["score"] > 6 for d in documents)


@pytest.mark.usefixtures("environment")
def test_the_notifier_check_reads_the_same_findings() -> None:
    """The notifier's source counts the drift and names the spike (codes only, no subjects)."""
    findings = findings_source(load_settings())()
    assert findings.drift_counts["undeclared"] == 1
    assert any("rikunabi used user.financial.salary" in line for line in findings.drift_lines)
    assert {(a.service, a.purpose_category, a.category) for a in findings.anomalies} == {
        ("jalan", "marketing", "personal")
    }
    assert all("a" * 64 not in line for line in findings.drift_lines)
