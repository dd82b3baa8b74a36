"""The console's behaviour on the known data: triage and its history, regressions, exports
that match ClickHouse, the subject view, and bad input (clear errors, no injection)."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dua_compliance.console import State, TriageStore
from dua_compliance.console import audit_reads as audit_reads_module
from dua_compliance.console.schema import audit_log
from dua_compliance.console.triage import Change
from dua_producer import pseudonymize
from dua_sink import AuditStore

from .console_harness import (
    NOW,
    RAW_SUBJECT,
    SUBJECT_KEY,
    ConsoleUnderTest,
    _event,
    console_under_test,
    signed_in,
    write_events,
)
from .provision_history import tagged
from .provision_history import write as write_tagged

__all__ = ["console_under_test"]

pytestmark = pytest.mark.integration


def _issue(client: object, rule: str) -> dict[str, object]:
    issues = client.get("/api/issues").json()  # type: ignore[attr-defined]
    return next(i for i in issues if i["rule"] == rule)


def test_acknowledge_then_resolve_keeps_history(console_under_test: ConsoleUnderTest) -> None:
    """An analyst acknowledges (assigning themself) then resolves; both are in the history."""
    client, csrf = signed_in(console_under_test.app, "ana")
    fp = _issue(client, "payroll_data_misuse")["fingerprint"]
    client.post(f"/issues/{fp}/transition", data={"csrf": csrf, "action": "acknowledge"})
    client.post(
        f"/issues/{fp}/transition", data={"csrf": csrf, "action": "resolve", "note": "fixed in v2"}
    )
    history = TriageStore(console_under_test.engine).history(str(fp))
    assert [(h.actor, h.from_state, h.to_state, h.note) for h in history] == [
        ("ana", "for_review", "acknowledged", ""),
        ("ana", "acknowledged", "resolved", "fixed in v2"),
    ]
    assert _issue(client, "payroll_data_misuse")["state"] == "resolved"


def test_a_resolved_issue_that_recurs_regresses_and_is_announced(
    console_under_test: ConsoleUnderTest, chdb_client: object, clickhouse_database: str
) -> None:
    """A new violation after the resolution reopens the issue as regressed, announced once."""
    client, csrf = signed_in(console_under_test.app, "ana")
    fp = _issue(client, "payroll_data_misuse")["fingerprint"]
    client.post(f"/issues/{fp}/transition", data={"csrf": csrf, "action": "resolve"})
    time.sleep(0.01)  # the recurrence comes strictly after the resolution
    later = _event(
        "rikunabi",
        "marketing.campaign_notice",
        [{"code": "user.financial.salary", "category": "personal", "sensitivity": None}],
        rules=[("payroll_data_misuse", "critical")],
        occurred_at=datetime.now(UTC),
    )
    write_events(chdb_client, clickhouse_database, [later], first_offset=100)
    assert _issue(client, "payroll_data_misuse")["state"] == "regressed"
    assert _issue(client, "payroll_data_misuse")["state"] == "regressed"
    assert [i.fingerprint for i in console_under_test.announced.issues] == [fp]
    history = TriageStore(console_under_test.engine).history(str(fp))
    assert (history[-1].actor, history[-1].to_state) == ("console", "regressed")


def test_an_accepted_risk_returns_to_review_at_expiry(console_under_test: ConsoleUnderTest) -> None:
    """Accepted risk needs a reason and a future expiry; once expired the issue is for review."""
    client, csrf = signed_in(console_under_test.app, "ana")
    fp = str(_issue(client, "payroll_data_misuse")["fingerprint"])
    url = f"/issues/{fp}/transition"
    no_reason = client.post(url, data={"csrf": csrf, "action": "accept_risk"})
    past = client.post(
        url, data={"csrf": csrf, "action": "accept_risk", "reason": "r", "expires_at": "2020-01-01"}
    )
    assert (no_reason.status_code, past.status_code) == (400, 400)
    assert "needs a reason" in no_reason.text
    store = TriageStore(console_under_test.engine)
    expired = Change(State.ACCEPTED_RISK, None, "vendor fix due", NOW - timedelta(minutes=1))
    store.change(fp, State.FOR_REVIEW, expired, actor="ana", note="", now=NOW - timedelta(days=1))
    assert _issue(client, "payroll_data_misuse")["state"] == "for_review"


def test_bulk_false_positive_needs_a_reason(console_under_test: ConsoleUnderTest) -> None:
    """A bulk action applies to every selected issue; a missing reason is a clear 400."""
    client, csrf = signed_in(console_under_test.app, "ana")
    keys = [i["fingerprint"] for i in client.get("/api/issues").json()]
    refused = client.post(
        "/inbox/bulk", data={"csrf": csrf, "action": "false_positive", "issue": keys}
    )
    done = client.post(
        "/inbox/bulk",
        data={"csrf": csrf, "action": "false_positive", "reason": "test data", "issue": keys},
    )
    assert (refused.status_code, done.status_code) == (400, 303)
    assert {i["state"] for i in client.get("/api/issues").json()} == {"false_positive"}


@pytest.mark.parametrize("chunk", [2, 10_000])
def test_the_csv_export_matches_clickhouse(
    console_under_test: ConsoleUnderTest, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The export of a filter has exactly the events ClickHouse finds for it, in any chunking;
    the export and its row count are in the auditors' log."""
    monkeypatch.setattr(audit_reads_module, "EXPORT_CHUNK", chunk)
    client, _ = signed_in(console_under_test.app, "aud")
    response = client.get("/explorer/export.csv?service=rikunabi&exclude_actor=nobody")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    expected = console_under_test.reader.query(
        "SELECT event_id FROM access_events_unique WHERE service = 'rikunabi'"
    )
    assert sorted(r["event_id"] for r in rows) == sorted(r[0] for r in expected.rows)
    assert len(rows) == 3
    last = (
        console_under_test.engine.connect()
        .execute(select(audit_log).order_by(audit_log.c.id.desc()))
        .first()
    )
    assert last is not None
    assert (last.actor, last.action, last.row_count) == ("aud", "export", 3)
    assert json.loads(last.detail)["filter"]["include"] == {"service": ["rikunabi"]}


def test_the_json_export_is_one_array(console_under_test: ConsoleUnderTest) -> None:
    """The JSON export parses as one array of every matching event."""
    client, _ = signed_in(console_under_test.app, "aud")
    body = client.get("/explorer/export.json?violations_only=1").json()
    assert len(body) == 4
    assert all(row["violation_rules"] for row in body)


def test_subject_lookup_never_keeps_the_raw_id(
    console_under_test: ConsoleUnderTest, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A raw id finds the person's accesses and violations; it is in no stored byte."""
    client, csrf = signed_in(console_under_test.app, "ana")
    page = client.post("/subject", data={"csrf": csrf, "raw_id": RAW_SUBJECT})
    assert page.status_code == 200
    assert "3 accesses" in page.text
    assert "2 violations" in page.text
    assert RAW_SUBJECT not in page.text.split("<main")[0]
    export = client.post("/subject/export", data={"csrf": csrf, "raw_id": RAW_SUBJECT})
    assert len(list(csv.DictReader(io.StringIO(export.text)))) == 3
    console_under_test.engine.dispose()
    for stored in tmp_path.glob("console.db*"):
        assert RAW_SUBJECT.encode() not in stored.read_bytes()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("nonsense=1", "unknown filter 'nonsense'"),
        ("size=100000", "'size' must be a whole number from 1 to 500"),
        ("page=-1", "'page' must be a whole number"),
        ("since=yesterday", "'since' must be an ISO 8601 time"),
        ("since=99999999d", "reaches too far back"),
        ("severity=urgent", "severity is one of"),
        ("service=" + "x" * 201, "longer than 200 characters"),
        ("size=1&size=2", "more than once"),
    ],
)
def test_malformed_filters_are_clear_400s(
    console_under_test: ConsoleUnderTest, query: str, message: str
) -> None:
    """A malformed filter answers 400 with what is wrong, on the page and the exports."""
    client, _ = signed_in(console_under_test.app, "aud")
    for path in ("/explorer", "/explorer/export.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400
        assert message in response.text


@pytest.mark.parametrize(
    "value", ["rikunabi' OR '1'='1", "x') OR 1=1 --", "rikunabi\\' OR 1=1", "}{p:String}"]
)
def test_sql_in_a_filter_is_only_a_value(console_under_test: ConsoleUnderTest, value: str) -> None:
    """Text that looks like SQL matches nothing: it is compared as a value."""
    client, _ = signed_in(console_under_test.app, "aud")
    response = client.get("/explorer", params={"service": value, "actor": value})
    assert response.status_code == 200
    assert "0 matching events" in response.text


def test_markup_in_a_note_is_shown_as_text(console_under_test: ConsoleUnderTest) -> None:
    """A note with a script tag is escaped on the page, and the CSP forbids any script."""
    client, csrf = signed_in(console_under_test.app, "ana")
    fp = _issue(client, "payroll_data_misuse")["fingerprint"]
    note = "<script>alert(1)</script><img src=x onerror=alert(2)>'; DROP TABLE console_users; --"
    client.post(
        f"/issues/{fp}/transition", data={"csrf": csrf, "action": "acknowledge", "note": note}
    )
    page = client.get(f"/issues/{fp}")
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert signed_in(console_under_test.app, "adm")[0].get("/users").status_code == 200


def test_bad_api_bodies_and_unknown_ids(console_under_test: ConsoleUnderTest) -> None:
    """Non-JSON bodies, unknown actions, unknown issues and events: 400 or 404, never 500."""
    client, csrf = signed_in(console_under_test.app, "ana")
    headers = {"x-csrf-token": csrf, "content-type": "application/json"}
    fp = _issue(client, "payroll_data_misuse")["fingerprint"]
    assert (
        client.post(f"/api/issues/{fp}/transition", content=b"{", headers=headers).status_code
        == 400
    )
    assert (
        client.post(
            f"/api/issues/{fp}/transition", json={"action": "delete"}, headers=headers
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/api/issues/nope/transition", json={"action": "resolve"}, headers=headers
        ).status_code
        == 404
    )
    assert client.get("/events/' OR 1=1 --").status_code == 404
    assert client.get("/inbox?state=bogus").status_code == 400
    assert client.get("/overview?since=forever").status_code == 400


def test_logins_are_throttled(console_under_test: ConsoleUnderTest) -> None:
    """After five wrong passwords the right one is refused too, for a while."""
    from starlette.testclient import TestClient  # noqa: PLC0415

    from .console_harness import PASSWORD  # noqa: PLC0415

    client = TestClient(console_under_test.app, base_url="http://127.0.0.1", follow_redirects=False)
    for _ in range(5):
        assert client.post("/login", data={"name": "ana", "password": "wrong"}).status_code == 401
    refused = client.post("/login", data={"name": "ana", "password": PASSWORD})
    assert refused.status_code == 401
    assert "too many failed logins" in refused.text
    failed = TriageStore(console_under_test.engine).audit_entries(limit=10)
    assert [e.action for e in failed].count("login_failed") == 6
    ok = client.post("/login", data={"name": "aud", "password": PASSWORD})
    assert ok.status_code == 303
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


def test_subject_view_shows_the_persons_provision_records(
    console_under_test: ConsoleUnderTest, chdb_client: Any, clickhouse_database: str
) -> None:
    """The person's APPI provision records are on the subject page and in its export (APPI
    Art. 33(5)); an internal access of theirs is no record."""
    pseudonym = pseudonymize(RAW_SUBJECT, SUBJECT_KEY)
    linking = {"kind": "AD_PLATFORM", "name": "google-ads"}
    payloads = [
        tagged(pseudonym, linking, NOW - timedelta(minutes=5)),
        tagged(pseudonym, {"kind": "INTERNAL", "name": None}, NOW - timedelta(minutes=4)),
    ]
    write_tagged(AuditStore(chdb_client, clickhouse_database, "console"), payloads, 1000)
    client, csrf = signed_in(console_under_test.app, "ana")
    page = client.post("/subject", data={"csrf": csrf, "raw_id": RAW_SUBJECT})
    assert "5 accesses" in page.text
    assert "1 APPI provision records" in page.text
    section = page.text.split('id="subject-provisions"')[1]
    assert "AD_PLATFORM google-ads" in section
    assert "not confirmed" in section
    export = list(
        csv.DictReader(
            io.StringIO(
                client.post("/subject/export", data={"csrf": csrf, "raw_id": RAW_SUBJECT}).text
            )
        )
    )
    assert len(export) == 5
    provided = [r for r in export if r["appi_recipient"]]
    assert [(r["appi_recipient"], r["appi_art31_confirmation"]) for r in provided] == [
        ("AD_PLATFORM:google-ads", "not confirmed")
    ]
