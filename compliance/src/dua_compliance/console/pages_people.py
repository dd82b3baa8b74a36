"""Pages about people: the subject view, the auditors' log, users and roles."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from dua_compliance.appi_records import subject_provisions
from dua_compliance.console.audit_reads import (
    subject_access_export,
    subject_events,
    subject_violations,
)
from dua_compliance.console.errors import InvalidInput
from dua_compliance.console.exports import CSV_MEDIA, csv_stream
from dua_compliance.console.roles import Permission, Role

if TYPE_CHECKING:
    from dua_compliance.console.web import Console

MAX_RAW_ID = 256


def people_routes(console: Console) -> list[Route]:
    """The routes of the subject view, the auditors' log and user management."""
    guard = console.guard

    @guard.requires(Permission.SUBJECT)
    async def subject_form(request: Request) -> Response:
        return console.page(
            request, "subject.html", enabled=console.config.pseudonymize is not None
        )

    def _pseudonym(raw_id: str) -> str:
        if console.config.pseudonymize is None:
            raise InvalidInput("DUA_SUBJECT_KEY is not set: subject lookup is off")
        raw_id = raw_id.strip()
        if not raw_id or len(raw_id) > MAX_RAW_ID:
            raise InvalidInput(f"type a subject id of 1 to {MAX_RAW_ID} characters")
        return console.config.pseudonymize(raw_id)

    @guard.requires(Permission.SUBJECT, write=True)
    async def subject_lookup(request: Request) -> Response:
        pseudonym = _pseudonym(str((await request.form()).get("raw_id", "")))
        accesses = await run_in_threadpool(subject_events, console.reader, pseudonym)
        violations = await run_in_threadpool(subject_violations, console.reader, pseudonym)
        provisions = await run_in_threadpool(subject_provisions, console.reader, pseudonym)
        console.audit(request, "subject_view", {"pseudonym": pseudonym}, len(accesses.rows))
        return console.page(
            request,
            "subject.html",
            enabled=True,
            pseudonym=pseudonym,
            accesses=list(accesses.dicts()),
            violations=list(violations.dicts()),
            provisions=list(provisions.dicts()),
        )

    @guard.requires(Permission.SUBJECT, write=True)
    async def subject_export(request: Request) -> Response:
        pseudonym = _pseudonym(str((await request.form()).get("raw_id", "")))
        accesses = await run_in_threadpool(subject_access_export, console.reader, pseudonym)
        user = request.state.caller.user.name

        def logged(rows: int) -> None:
            detail = {"format": "csv", "pseudonym": pseudonym, "report": "subject_access"}
            console.store.append_audit(
                user, "export", detail, now=datetime.now(UTC), row_count=rows
            )

        return StreamingResponse(
            csv_stream([accesses], logged),
            media_type=CSV_MEDIA,
            headers={"content-disposition": 'attachment; filename="subject-access.csv"'},
        )

    @guard.requires(Permission.READ_AUDIT_LOG)
    async def audit_log(request: Request) -> Response:
        before = request.query_params.get("before")
        if before is not None and not before.isdigit():
            raise InvalidInput("'before' is an entry number")
        entries = console.store.audit_entries(limit=200, before_id=int(before) if before else None)
        return console.page(request, "audit_log.html", entries=entries)

    @guard.requires(Permission.MANAGE_USERS)
    async def users(request: Request) -> Response:
        return console.page(
            request, "users.html", users=console.accounts.all_users(), roles=list(Role)
        )

    @guard.requires(Permission.MANAGE_USERS, write=True)
    async def add_user(request: Request) -> Response:
        form = await request.form()
        caller = request.state.caller.user
        try:
            role = Role(str(form.get("role", "")))
        except ValueError:
            raise InvalidInput(f"role is one of {', '.join(Role)}") from None
        subject = form.get("subject_access") == "on"
        if not caller.may_grant(role, subject_access=subject):
            return Response("nobody grants a role or permission above their own", status_code=403)
        name = str(form.get("name", ""))
        console.accounts.add_user(
            name,
            str(form.get("password", "")),
            role,
            subject_access=subject,
            created_by=caller.name,
            now=datetime.now(UTC),
        )
        console.audit(request, "user_add", {"name": name, "role": role, "subject_access": subject})
        return RedirectResponse("/users", status_code=303)

    return [
        Route("/subject", subject_form, methods=["GET"]),
        Route("/subject", subject_lookup, methods=["POST"]),
        Route("/subject/export", subject_export, methods=["POST"]),
        Route("/audit-log", audit_log, methods=["GET"]),
        Route("/users", users, methods=["GET"]),
        Route("/users", add_user, methods=["POST"]),
    ]
