"""The console in a real browser (Debian's Chromium driven by Playwright): an analyst triages,
an auditor cannot, a subject lookup, a CSV export that matches ClickHouse, and the auditors'
log showing each of those actions."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .console_harness import PASSWORD, RAW_SUBJECT, ConsoleUnderTest, console_under_test
from .console_server import serving

__all__ = ["console_under_test"]

pytestmark = pytest.mark.integration


def _unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium (the system's, never a downloaded one), reaching only 127.0.0.1."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        _unavailable("chromium is not installed (make setup installs Debian's chromium)")
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError:
        _unavailable("playwright is not installed (make setup installs it)")
    with sync_playwright() as playwright:
        found = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--proxy-server=127.0.0.1:9",
                "--proxy-bypass-list=127.0.0.1",
            ],
        )
        try:
            yield found
        finally:
            found.close()


def _sign_in(browser: Any, base: str, name: str) -> Any:
    context = browser.new_context(base_url=base, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/inbox")
    assert page.url.endswith("/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox")
    page.errors = errors
    return page


def test_the_console_in_a_browser(browser: Any, console_under_test: ConsoleUnderTest) -> None:
    """Triage, a read-only auditor, a subject lookup, an export, and the auditors' log."""
    with serving(console_under_test.app) as base:
        analyst = _sign_in(browser, base, "ana")
        analyst.get_by_role("link", name="payroll_data_misuse").click()
        issue_url = analyst.url
        analyst.get_by_label("Action").select_option("acknowledge")
        analyst.get_by_role("button", name="Apply").click()
        assert analyst.locator("#issue-state").inner_text() == "acknowledged"
        analyst.get_by_label("Action").select_option("resolve")
        analyst.get_by_label("Note").fill("fixed by the campaign team")
        analyst.get_by_role("button", name="Apply").click()
        assert analyst.locator("#issue-state").inner_text() == "resolved"
        history = analyst.locator("#history tbody tr").all_inner_texts()
        assert len(history) == 2
        assert "acknowledged" in history[0]
        assert "fixed by the campaign team" in history[1]

        auditor = _sign_in(browser, base, "aud")
        auditor.goto(issue_url)
        assert auditor.locator("#issue-state").inner_text() == "resolved"
        assert auditor.locator("#triage").count() == 0
        assert auditor.get_by_role("button", name="Apply").count() == 0
        fingerprint = issue_url.rsplit("/", 1)[-1]
        csrf = auditor.request.get("/api/session").json()["csrf"]
        refused = auditor.request.post(
            f"/api/issues/{fingerprint}/transition",
            data={"action": "reopen"},
            headers={"x-csrf-token": csrf},
        )
        assert refused.status == 403
        assert auditor.get_by_role("link", name="Subject").count() == 0

        analyst.get_by_role("link", name="Subject").click()
        analyst.get_by_label("Subject id").fill(RAW_SUBJECT)
        analyst.get_by_role("button", name="Look up").click()
        assert "3 accesses" in analyst.locator("#subject-accesses caption").inner_text()
        assert RAW_SUBJECT not in analyst.url

        analyst.get_by_role("link", name="Audit explorer").click()
        analyst.get_by_label("service", exact=True).fill("rikunabi")
        analyst.get_by_role("button", name="Search").click()
        assert "service=rikunabi" in analyst.url
        with analyst.expect_download() as download:
            analyst.get_by_role("link", name="Export CSV").click()
        text = Path(download.value.path()).read_text(encoding="utf-8")
        exported = list(csv.DictReader(io.StringIO(text)))
        expected = console_under_test.reader.query(
            "SELECT event_id FROM access_events_unique WHERE service = 'rikunabi'"
        )
        assert sorted(r["event_id"] for r in exported) == sorted(r[0] for r in expected.rows)

        auditor.get_by_role("link", name="Auditors' log").click()
        log = auditor.locator("#audit-log tbody").inner_text()
        for action in ("login", "triage", "subject_view", "search", "export"):
            assert action in log, action
        export_line = auditor.locator("#audit-log tbody tr", has_text="export").first
        assert export_line.locator("td").last.inner_text() == str(len(exported))
        assert "rikunabi" in export_line.inner_text()
        assert RAW_SUBJECT not in log
        assert analyst.errors == []
        assert auditor.errors == []
