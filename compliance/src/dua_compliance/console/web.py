"""The console's web application: server-rendered pages, a small JSON API, streamed exports.

No script runs in the pages (`script-src 'none'`): every action is a plain HTML form, so the
console works by keyboard and screen reader without any client code.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from dua_compliance.console.accounts import Accounts
from dua_compliance.console.config import ConsoleConfig
from dua_compliance.console.errors import InvalidInput, LoginRefused, NotFound
from dua_compliance.console.guard import CSRF_FIELD, SESSION_COOKIE, Guard
from dua_compliance.console.pages_audit import audit_routes
from dua_compliance.console.pages_people import people_routes
from dua_compliance.console.pages_records import records_routes
from dua_compliance.console.pages_triage import triage_routes
from dua_compliance.console.roles import Permission
from dua_compliance.console.store import TriageStore
from dua_compliance.errors import QueryError
from dua_compliance.reader import Reader

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


class Console:
    """Everything a request handler needs: reader, stores, guard, templates, config."""

    def __init__(self, reader: Reader, engine: Engine, config: ConsoleConfig) -> None:
        self.reader = reader
        self.config = config
        self.store = TriageStore(engine)
        self.accounts = Accounts(engine)
        self.guard = Guard(self.accounts, config)
        self.templates = Jinja2Templates(
            env=Environment(
                loader=PackageLoader("dua_compliance.console", "templates"), autoescape=True
            )
        )

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        caller = getattr(request.state, "caller", None)
        response: Response = self.templates.TemplateResponse(
            request,
            name,
            {"caller": caller, "csrf_field": CSRF_FIELD, **context},
            status_code=status,
        )
        return response

    def audit(
        self, request: Request, action: str, detail: dict[str, Any], rows: int | None = None
    ) -> None:
        self.store.append_audit(
            request.state.caller.user.name, action, detail, now=datetime.now(UTC), row_count=rows
        )


class _Headers(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        try:
            response = await call_next(request)
        except InvalidInput as exc:
            response = PlainTextResponse(f"invalid input: {exc}", status_code=400)
        except NotFound as exc:
            response = PlainTextResponse(f"not found: {exc}", status_code=404)
        except QueryError as exc:
            response = PlainTextResponse(f"ClickHouse refused the query: {exc}", status_code=502)
        response.headers.update(SECURITY_HEADERS)
        return response


def build_app(reader: Reader, engine: Engine, config: ConsoleConfig) -> Starlette:
    """The console as an ASGI application."""
    console = Console(reader, engine, config)

    async def login_form(request: Request) -> Response:
        return console.page(request, "login.html")

    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        now = datetime.now(UTC)
        try:
            user = await run_in_threadpool(console.accounts.login, name, password, now=now)
        except LoginRefused as exc:
            console.store.append_audit(name[:64] or "-", "login_failed", {"why": str(exc)}, now=now)
            return console.page(request, "login.html", status=401, error=str(exc))
        token, _csrf = console.accounts.open_session(user, now=now, ttl=config.session_ttl)
        console.store.append_audit(user.name, "login", {}, now=now)
        response = RedirectResponse("/inbox", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(config.session_ttl.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=config.secure_cookies,
        )
        return response

    async def logout(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            console.accounts.close_session(token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @console.guard.requires(Permission.READ)
    async def session(request: Request) -> Response:
        caller = request.state.caller
        return JSONResponse(
            {
                "user": caller.user.name,
                "role": caller.user.role,
                "subject_access": caller.user.subject_access,
                "csrf": caller.csrf,
            }
        )

    async def home(_request: Request) -> Response:
        return RedirectResponse("/inbox", status_code=303)

    static = str(files("dua_compliance.console") / "static")
    routes = [
        Route("/", home),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/api/session", session, methods=["GET"]),
        *triage_routes(console),
        *audit_routes(console),
        *people_routes(console),
        *records_routes(console),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(_Headers)])
