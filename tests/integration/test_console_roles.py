"""Every endpoint of the compliance console for every role: allowed, or refused with 403."""

from __future__ import annotations

from typing import Any

import pytest

from .console_harness import (
    NOW,
    PASSWORD,
    RAW_SUBJECT,
    USERS,
    ConsoleUnderTest,
    console_under_test,
    signed_in,
)

__all__ = ["console_under_test"]

pytestmark = pytest.mark.integration

# (method, path, body, the users allowed); the others must get 403.
# ana: analyst with subject access; aud: auditor; adm: admin with subject access; ana2: analyst.
ENDPOINTS: list[tuple[str, str, str, set[str]]] = [
    ("GET", "/inbox", "", set(USERS)),
    ("GET", "/issues/{fp}", "", set(USERS)),
    ("GET", "/api/issues", "", set(USERS)),
    ("GET", "/api/session", "", set(USERS)),
    ("POST", "/issues/{fp}/transition", "form:acknowledge", {"ana", "adm", "ana2"}),
    ("POST", "/inbox/bulk", "form:bulk", {"ana", "adm", "ana2"}),
    ("POST", "/api/issues/{fp}/transition", "json:acknowledge", {"ana", "adm", "ana2"}),
    ("GET", "/explorer?service=rikunabi", "", set(USERS)),
    ("GET", "/explorer/export.csv?service=rikunabi", "", set(USERS)),
    ("GET", "/explorer/export.json?service=rikunabi", "", set(USERS)),
    ("GET", "/events/{event}", "", set(USERS)),
    ("GET", "/overview?since=7d", "", set(USERS)),
    ("GET", "/datamap?since=30d", "", set(USERS)),
    ("GET", "/anomalies?since=24h", "", set(USERS)),
    ("GET", "/subject", "", {"ana", "adm"}),
    ("POST", "/subject", "form:subject", {"ana", "adm"}),
    ("POST", "/subject/export", "form:subject", {"ana", "adm"}),
    ("GET", "/audit-log", "", {"aud", "adm"}),
    ("GET", "/users", "", {"adm"}),
    ("POST", "/users", "form:user", {"adm"}),
]


def _fingerprint(console: ConsoleUnderTest) -> str:
    client, _ = signed_in(console.app, "adm")
    return str(client.get("/api/issues").json()[0]["fingerprint"])


def _send(client: Any, method: str, path: str, body: str, csrf: str, who: str) -> Any:
    kind, _, what = body.partition(":")
    if method == "GET":
        return client.get(path)
    if kind == "json":
        return client.post(path, json={"action": what}, headers={"x-csrf-token": csrf})
    fields: dict[str, Any] = {"csrf": csrf}
    if what == "acknowledge":
        fields["action"] = "acknowledge"
    elif what == "bulk":
        fields.update(action="acknowledge", issue=path.rsplit("?", maxsplit=1)[-1])
    elif what == "subject":
        fields["raw_id"] = RAW_SUBJECT
    elif what == "user":
        fields.update(name=f"new-{who}", password=PASSWORD, role="auditor")
    return client.post(path.split("?", maxsplit=1)[0], data=fields)


@pytest.mark.parametrize("who", sorted(USERS))
def test_every_endpoint_for_every_role(console_under_test: ConsoleUnderTest, who: str) -> None:
    """Each user reaches exactly the endpoints of their role (others answer 403)."""
    fp = _fingerprint(console_under_test)
    event = console_under_test.events[0]["event_id"]
    client, csrf = signed_in(console_under_test.app, who)
    for method, template, body, allowed in ENDPOINTS:
        path = template.format(fp=fp, event=event)
        if body == "form:bulk":
            path = f"{path}?{fp}"
        response = _send(client, method, path, body, csrf, who)
        where = f"{method} {template} as {who}"
        if who in allowed:
            assert response.status_code in (200, 303), f"{where}: {response.status_code}"
        else:
            assert response.status_code == 403, f"{where}: {response.status_code}"


def test_signed_out_callers_are_sent_to_sign_in(console_under_test: ConsoleUnderTest) -> None:
    """Without a session, pages redirect to the sign-in page and writes and the API answer 401."""
    from starlette.testclient import TestClient  # noqa: PLC0415

    client = TestClient(console_under_test.app, base_url="http://127.0.0.1", follow_redirects=False)
    for method, template, body, _ in ENDPOINTS:
        path = template.format(fp="x", event="x")
        response = _send(client, method, path, body, "", "nobody")
        expected = 303 if method == "GET" and not path.startswith("/api/") else 401
        assert response.status_code == expected, f"{method} {template}"
        if expected == 303:
            assert response.headers["location"] == "/login"


def test_writes_without_the_csrf_token_are_refused(console_under_test: ConsoleUnderTest) -> None:
    """A permitted write with a missing or wrong CSRF token answers 403 and changes nothing."""
    fp = _fingerprint(console_under_test)
    client, _ = signed_in(console_under_test.app, "ana")
    form = client.post(f"/issues/{fp}/transition", data={"action": "resolve"})
    api = client.post(
        f"/api/issues/{fp}/transition", json={"action": "resolve"}, headers={"x-csrf-token": "x"}
    )
    assert (form.status_code, api.status_code) == (403, 403)
    assert client.get("/api/issues").json()[0]["state"] == "for_review"


def test_the_auditor_sees_no_triage_control(console_under_test: ConsoleUnderTest) -> None:
    """An auditor's issue page has no change form and the inbox no bulk action."""
    fp = _fingerprint(console_under_test)
    auditor, _ = signed_in(console_under_test.app, "aud")
    analyst, _ = signed_in(console_under_test.app, "ana")
    assert 'id="triage"' not in auditor.get(f"/issues/{fp}").text
    assert "Bulk action" not in auditor.get("/inbox").text
    assert 'id="triage"' in analyst.get(f"/issues/{fp}").text


def test_nobody_grants_above_their_own(console_under_test: ConsoleUnderTest) -> None:
    """An admin without subject access cannot grant it; an admin can add an admin."""
    from dua_compliance.console import Accounts, Role  # noqa: PLC0415

    Accounts(console_under_test.engine).add_user(
        "adm2", PASSWORD, Role.ADMIN, subject_access=False, created_by="test", now=NOW
    )
    client, csrf = signed_in(console_under_test.app, "adm2")
    fields = {"csrf": csrf, "password": PASSWORD, "role": "analyst"}
    refused = client.post("/users", data={**fields, "name": "s1", "subject_access": "on"})
    granted = client.post("/users", data={**fields, "name": "s2", "role": "admin"})
    assert (refused.status_code, granted.status_code) == (403, 303)


def test_a_trusted_proxy_header_signs_in_only_when_configured(
    console_under_test: ConsoleUnderTest,
) -> None:
    """With the SSO header configured, a known user named in it is signed in (writes still need
    the CSRF token); unknown names and an unconfigured console ignore the header."""
    from dataclasses import replace  # noqa: PLC0415

    from starlette.testclient import TestClient  # noqa: PLC0415

    from dua_compliance.console import build_app  # noqa: PLC0415

    from .console_harness import Announced, config_for_tests  # noqa: PLC0415

    config = replace(config_for_tests(Announced([])), trusted_user_header="X-Forwarded-User")
    app = build_app(console_under_test.reader, console_under_test.engine, config)
    client = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
    as_ana = {"X-Forwarded-User": "ana"}
    session = client.get("/api/session", headers=as_ana)
    assert session.json()["user"] == "ana"
    fp = client.get("/api/issues", headers=as_ana).json()[0]["fingerprint"]
    url = f"/api/issues/{fp}/transition"
    assert client.post(url, json={"action": "acknowledge"}, headers=as_ana).status_code == 403
    done = client.post(
        url,
        json={"action": "acknowledge"},
        headers={**as_ana, "x-csrf-token": session.json()["csrf"]},
    )
    assert done.status_code == 200
    assert client.get("/api/session", headers={"X-Forwarded-User": "mallory"}).status_code == 401
    plain = TestClient(console_under_test.app, base_url="http://127.0.0.1")
    assert plain.get("/api/session", headers=as_ana).status_code == 401
