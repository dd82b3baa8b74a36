"""The sink's local read endpoint: ClickHouse-HTTP-like, read-only, on 127.0.0.1.

While the sink runs on the embedded engine it owns the chDB directory, so `dua query`,
`dua report`, `dua subject` and dashboards read through here:

    POST /?default_format=JSONCompact&param_since=2026-01-01%2000:00:00   (body: the SQL)
    GET  /?query=SELECT%201
    GET  /ping

Queries run on a separate chDB handle that has `readonly=1`; on top of that only single read
statements are accepted (see `statement_guard`).
"""

from __future__ import annotations

import logging
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dua_sink.chdb_engine import ReadOnlyChdb
from dua_sink.errors import QueryError, QueryRefused
from dua_sink.statement_guard import single_read_statement

log = logging.getLogger("dua_sink.query_endpoint")
MAX_QUERY_BYTES = 1 << 20
_FORMAT = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_CODE = re.compile(r"Code: (\d+)")


class QueryEndpoint:
    """Serves read queries of one `ReadOnlyChdb` over HTTP on the loopback interface."""

    __slots__ = ("_server", "_thread", "engine")

    def __init__(self, engine: ReadOnlyChdb, port: int = 0, host: str = "127.0.0.1") -> None:
        self.engine = engine
        handler = type("_BoundHandler", (_Handler,), {"engine": engine})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> int:
        """Serve in a background thread; return the port."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="dua-sink-query", daemon=True
        )
        self._thread.start()
        return self.port

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    engine: ReadOnlyChdb
    server_version = "dua-sink"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/ping":
            self._reply(HTTPStatus.OK, b"Ok.\n")
            return
        query = parse_qs(url.query, keep_blank_values=True)
        self._run(query.get("query", [""])[0], query)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_QUERY_BYTES:
            self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"query too large\n")
            return
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        prefix = query.get("query", [""])[0]
        self._run(f"{prefix} {body}" if prefix else body, query)

    def _run(self, sql: str, query: dict[str, list[str]]) -> None:
        fmt = query.get("default_format", ["TabSeparated"])[0]
        database = query.get("database", [self.engine.database])[0]
        if not _FORMAT.match(fmt):
            self._reply(HTTPStatus.BAD_REQUEST, f"bad format name {fmt!r}\n".encode())
            return
        if database != self.engine.database:
            message = f"this endpoint serves database {self.engine.database}, not {database}\n"
            self._reply(HTTPStatus.BAD_REQUEST, message.encode())
            return
        parameters = {k[6:]: v[0] for k, v in query.items() if k.startswith("param_")}
        try:
            statement = single_read_statement(sql)
            body = self.engine.execute(statement, parameters, fmt)
        except QueryRefused as exc:
            self._reply(HTTPStatus.FORBIDDEN, f"{exc}\n".encode(), code="164")
            return
        except QueryError as exc:
            match = _CODE.search(str(exc))
            self._reply(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                f"{exc}\n".encode(),
                code=match.group(1) if match else None,
            )
            return
        self._reply(HTTPStatus.OK, body)

    def _reply(self, status: HTTPStatus, body: bytes, code: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        if code is not None:
            self.send_header("X-ClickHouse-Exception-Code", code)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("query endpoint: " + format, *args)
