"""The data map and anomalies pages in a real browser (Debian's Chromium driven by Playwright):
an auditor follows the navigation, sees undeclared use and the new combinations, the declared
pairs nobody used, and a planted bulk export among the anomalies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from .console_harness import NOW, ConsoleUnderTest, console_under_test, write_events
from .console_server import serving
from .records_history import Series, seasonal_history, spike, write
from .test_console_browser import _sign_in, browser

__all__ = ["browser", "console_under_test"]

pytestmark = pytest.mark.integration

EXPORTS = Series("jalan", "marketing.campaign_notice", (("user.contact.email", "personal"),), 20)


@pytest.fixture
def records_data(
    console_under_test: ConsoleUnderTest, chdb_client: Any, clickhouse_database: str
) -> ConsoleUnderTest:
    """The console's known data, plus undeclared use, two weeks of history and a spike."""
    salary = {"code": "user.financial.salary", "category": "personal", "sensitivity": None}
    undeclared = {
        **console_under_test.events[-1],
        "event_id": "00000000-0000-4000-8000-00000000beef",
        "service": "hotpepper-beauty",
        "elements": [salary],
        "violations": [
            {
                "violation_id": "v-beef",
                "rule": "purpose_not_permitted",
                "severity": "medium",
                "mode": "active",
                "elements": ["user.financial.salary"],
                "message": "not permitted",
            }
        ],
    }
    write_events(chdb_client, clickhouse_database, [undeclared], first_offset=100)
    hour = NOW.replace(minute=0, second=0) - timedelta(hours=2)
    write(chdb_client, clickhouse_database, seasonal_history([EXPORTS], end=hour, days=14, seed=4))
    write(chdb_client, clickhouse_database, spike(EXPORTS, hour, 400, seed=6))
    return console_under_test


def test_data_map_and_anomalies_in_a_browser(browser: Any, records_data: ConsoleUnderTest) -> None:
    """An auditor reads the drift and the map, then the anomaly list with the planted spike."""
    with serving(records_data.app) as base:
        auditor = _sign_in(browser, base, "aud")
        auditor.get_by_role("link", name="Data map").click()
        auditor.wait_for_url("**/datamap")
        assert auditor.locator("h1").inner_text() == "Data map"
        assert int(auditor.locator("#drift-undeclared").inner_text()) == 1
        assert int(auditor.locator("#drift-new").inner_text()) > 0
        assert int(auditor.locator("#drift-unseen").inner_text()) > 0
        row = auditor.locator("tr.undeclared")
        assert row.count() == 1
        assert "hotpepper-beauty" in row.inner_text()
        assert "user.financial.salary" in row.inner_text()
        auditor.get_by_label("Window").select_option("7d")
        auditor.get_by_role("button", name="Show").click()
        auditor.wait_for_url("**/datamap?since=7d")
        assert "last 7d" in auditor.locator("caption").first.inner_text()

        auditor.get_by_role("link", name="Anomalies").click()
        auditor.wait_for_url("**/anomalies")
        rows = auditor.locator("tbody tr").all_inner_texts()
        assert len(rows) == 2  # accesses and subjects of the same hour
        assert all("jalan" in r and "marketing" in r and "personal" in r for r in rows)
        assert auditor.errors == []
