"""Inbox, issue pages and triage changes (HTML forms and the JSON API)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from dua_compliance.console.errors import InvalidInput, NotFound
from dua_compliance.console.issues import Issue, issue_violations, load_issues
from dua_compliance.console.roles import Permission
from dua_compliance.console.triage import Action, State, plan_change

if TYPE_CHECKING:
    from dua_compliance.console.web import Console

MAX_NOTE = 2000
MAX_BULK = 500


def _issues(console: Console) -> list[Issue]:
    now = datetime.now(UTC)
    return load_issues(
        console.reader,
        console.store,
        since=now - console.config.inbox_window,
        now=now,
        announce=console.config.announce,
    )


def _find(console: Console, key: str) -> Issue:
    for issue in _issues(console):
        if issue.fingerprint == key:
            return issue
    raise NotFound(f"issue {key[:32]!r}")


def _expiry(text: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            "the expiry is a date (2026-12-31) or a time (2026-12-31T18:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _transition(console: Console, actor: str, key: str, fields: dict[str, str]) -> Issue:
    """Apply one action to one issue; `InvalidInput` when the action or its fields are wrong."""
    try:
        action = Action(fields.get("action", ""))
    except ValueError:
        raise InvalidInput(f"action is one of {', '.join(a.value for a in Action)}") from None
    note = fields.get("note", "").strip()
    if len(note) > MAX_NOTE or len(fields.get("reason", "")) > MAX_NOTE:
        raise InvalidInput(f"a note or a reason has at most {MAX_NOTE} characters")
    issue = _find(console, key)
    now = datetime.now(UTC)
    change = plan_change(
        issue.triage.state,
        action,
        actor=actor,
        now=now,
        assignee=fields.get("assignee", "")[:64],
        reason=fields.get("reason"),
        expires_at=_expiry(fields.get("expires_at", "")),
    )
    console.store.change(
        key, issue.triage.state, change, actor=actor, note=note or (change.reason or ""), now=now
    )
    console.store.append_audit(
        actor,
        "triage",
        {"issue": key, "from": issue.triage.state, "to": change.to, "note": note},
        now=now,
    )
    return issue


def _issue_json(issue: Issue) -> dict[str, Any]:
    return {
        "fingerprint": issue.fingerprint,
        "rule": issue.rule,
        "service": issue.service,
        "purpose": issue.purpose,
        "destination_kind": issue.destination_kind,
        "severity": issue.severity,
        "violations": issue.violations,
        "subjects": issue.subjects,
        "first_seen": issue.first_seen.isoformat(),
        "last_seen": issue.last_seen.isoformat(),
        "trend": issue.trend,
        "state": issue.triage.state.value,
        "assignee": issue.triage.assignee,
    }


def triage_routes(console: Console) -> list[Route]:
    """The inbox's routes."""
    guard = console.guard

    @guard.requires(Permission.READ)
    async def inbox(request: Request) -> Response:
        issues = await run_in_threadpool(_issues, console)
        wanted = request.query_params.get("state", "open")
        if wanted == "open":
            shown = [
                i
                for i in issues
                if i.triage.state in (State.FOR_REVIEW, State.ACKNOWLEDGED, State.REGRESSED)
            ]
        elif wanted == "all":
            shown = issues
        elif wanted in State.__members__.values():
            shown = [i for i in issues if i.triage.state == wanted]
        else:
            raise InvalidInput(f"state is open, all or one of {', '.join(State)}")
        return console.page(request, "inbox.html", issues=shown, state=wanted, states=list(State))

    @guard.requires(Permission.READ)
    async def issue_page(request: Request) -> Response:
        key = request.path_params["fingerprint"]
        issue = await run_in_threadpool(_find, console, key)
        since = datetime.now(UTC) - console.config.inbox_window
        violations = await run_in_threadpool(issue_violations, console.reader, issue, since)
        return console.page(
            request,
            "issue.html",
            issue=issue,
            violations=list(violations.dicts()),
            history=console.store.history(key),
            rule_text=console.config.rule_texts.get(issue.rule, ""),
            actions=list(Action),
        )

    @guard.requires(Permission.TRIAGE, write=True)
    async def transition(request: Request) -> Response:
        key = request.path_params["fingerprint"]
        fields = {k: str(v) for k, v in (await request.form()).items()}
        await run_in_threadpool(_transition, console, request.state.caller.user.name, key, fields)
        return RedirectResponse(f"/issues/{key}", status_code=303)

    @guard.requires(Permission.TRIAGE, write=True)
    async def bulk(request: Request) -> Response:
        form = await request.form()
        keys = [str(k) for k in form.getlist("issue")][:MAX_BULK]
        if not keys:
            raise InvalidInput("select at least one issue")
        fields = {k: str(v) for k, v in form.items() if k != "issue"}
        for key in keys:
            await run_in_threadpool(
                _transition, console, request.state.caller.user.name, key, fields
            )
        return RedirectResponse("/inbox", status_code=303)

    @guard.requires(Permission.READ)
    async def api_issues(_request: Request) -> Response:
        issues = await run_in_threadpool(_issues, console)
        return JSONResponse([_issue_json(i) for i in issues])

    @guard.requires(Permission.TRIAGE, write=True)
    async def api_transition(request: Request) -> Response:
        key = request.path_params["fingerprint"]
        try:
            body = await request.json()
        except ValueError:
            raise InvalidInput("the body is not JSON") from None
        if not isinstance(body, dict):
            raise InvalidInput("the body is a JSON object")
        fields = {str(k): str(v) for k, v in body.items() if v is not None}
        await run_in_threadpool(_transition, console, request.state.caller.user.name, key, fields)
        return JSONResponse(_issue_json(await run_in_threadpool(_find, console, key)))

    return [
        Route("/inbox", inbox, methods=["GET"]),
        Route("/inbox/bulk", bulk, methods=["POST"]),
        Route("/issues/{fingerprint}", issue_page, methods=["GET"]),
        Route("/issues/{fingerprint}/transition", transition, methods=["POST"]),
        Route("/api/issues", api_issues, methods=["GET"]),
        Route("/api/issues/{fingerprint}/transition", api_transition, methods=["POST"]),
    ]
