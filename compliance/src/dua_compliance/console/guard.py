"""Who is asking: sessions, the optional proxy header, CSRF checks, permission checks."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from dua_compliance.console.accounts import Accounts
from dua_compliance.console.config import ConsoleConfig
from dua_compliance.console.roles import Permission, User

SESSION_COOKIE = "dua_console_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Caller:
    """The signed-in user of one request and the CSRF token their writes must carry."""

    user: User
    csrf: str


class Guard:
    """Finds the caller of a request and refuses what their role does not allow."""

    def __init__(self, accounts: Accounts, config: ConsoleConfig) -> None:
        self.accounts = accounts
        self.config = config
        self._proxy_secret = secrets.token_bytes(32)

    def caller(self, request: Request) -> Caller | None:
        header = self.config.trusted_user_header
        if header and request.headers.get(header):
            user = self.accounts.user(request.headers[header])
            if user is None:
                return None
            digest = hmac.new(self._proxy_secret, user.name.encode(), hashlib.sha256)
            return Caller(user, digest.hexdigest())
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        found = self.accounts.session(token, now=datetime.now(UTC))
        return None if found is None else Caller(*found)

    def requires(
        self, permission: Permission, *, write: bool = False
    ) -> Callable[[Endpoint], Endpoint]:
        """Wrap an endpoint: sign-in, permission (403 otherwise) and, on writes, CSRF."""

        def wrap(endpoint: Endpoint) -> Endpoint:
            @wraps(endpoint)
            async def guarded(request: Request) -> Response:
                caller = self.caller(request)
                api = request.url.path.startswith("/api/")
                if caller is None:
                    if api or request.method != "GET":
                        return JSONResponse({"error": "sign in first"}, status_code=401)
                    return RedirectResponse("/login", status_code=303)
                if not caller.user.can(permission):
                    message = f"your role ({caller.user.role}) may not do this"
                    if api:
                        return JSONResponse({"error": message}, status_code=403)
                    return PlainTextResponse(message, status_code=403)
                if write and not await self._csrf_ok(request, caller):
                    return PlainTextResponse("missing or wrong CSRF token", status_code=403)
                request.state.caller = caller
                return await endpoint(request)

            return guarded

        return wrap

    @staticmethod
    async def _csrf_ok(request: Request, caller: Caller) -> bool:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        return sent is not None and hmac.compare_digest(sent, caller.csrf)
