"""Reads over ClickHouse's HTTP interface: a ClickHouse server, or the sink's endpoint."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from dua_compliance.errors import QueryError, QueryRefused, ReaderUnavailable
from dua_compliance.json_compact import QueryResult, parse_json_compact
from dua_compliance.query_parameters import format_parameters
from dua_compliance.sql_files import check_database

_SCHEMES = {"http": "http", "https": "https", "clickhouse": "http", "clickhouses": "https"}


class HttpReader:
    """Sends each query as one HTTP POST and parses the JSONCompact answer."""

    __slots__ = ("_auth", "_on_close", "_timeout", "database", "description", "url")

    def __init__(
        self,
        url: str,
        database: str,
        *,
        user: str | None = None,
        password: str | None = None,
        timeout: float = 120.0,
        description: str | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.url = url.rstrip("/") + "/"
        self.database = check_database(database)
        self._timeout = timeout
        self._auth: dict[str, str] = {}
        if user:
            token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            self._auth = {"Authorization": f"Basic {token}"}
        self.description = description or self.url
        # What else ends with this reader: an endpoint opened for it alone.
        self._on_close = on_close

    @classmethod
    def from_dsn(cls, dsn: str, database: str) -> HttpReader:
        """A reader for a clickhouse-connect DSN (`http://user:password@host:8123/...`)."""
        parts = urlsplit(dsn)
        scheme = _SCHEMES.get(parts.scheme)
        if scheme is None or not parts.hostname:
            raise ReaderUnavailable(
                f"cannot read over HTTP from DSN scheme {parts.scheme!r}; "
                "use http://, https:// or clickhouse://"
            )
        default_port = 8443 if scheme == "https" else 8123
        url = f"{scheme}://{parts.hostname}:{parts.port or default_port}/"
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(url, database, user=user, password=password, description=url)

    def ping(self, timeout: float = 2.0) -> bool:
        try:
            with urllib.request.urlopen(self.url + "ping", timeout=timeout) as response:  # noqa: S310 - our own URL
                return bool(response.status == 200)
        except OSError:
            return False

    def raw(self, sql: str, parameters: Mapping[str, Any] | None, fmt: str) -> bytes:
        """The answer to `sql` formatted as `fmt`."""
        statement = sql.strip().rstrip(";").rstrip()
        query = {"database": self.database}
        query.update({f"param_{k}": v for k, v in format_parameters(parameters).items()})
        request = urllib.request.Request(  # noqa: S310 - the URL is configuration, not input
            f"{self.url}?{urlencode(query)}",
            data=f"{statement}\nFORMAT {fmt}".encode(),
            headers={"Content-Type": "text/plain; charset=UTF-8", **self._auth},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as exc:
            message = exc.read().decode("utf-8", errors="replace").strip()
            if exc.code == 403:
                raise QueryRefused(message) from None
            raise QueryError(message or f"HTTP {exc.code}") from None
        except OSError as exc:
            raise ReaderUnavailable(f"{self.description} does not answer: {exc}") from exc

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> QueryResult:
        return parse_json_compact(self.raw(sql, parameters, "JSONCompact"))

    def close(self) -> None:
        """Every query is its own request; only an endpoint opened for this reader ends."""
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()
