"""Opening ClickHouse for writing: chDB in-process by default, a server by DSN."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

import clickhouse_connect
from clickhouse_connect.driver.exceptions import ClickHouseError

from dua_sink.errors import ClickHouseUnavailable

CHDB_SCHEME = "chdb://"
# chDB refuses a directory another process holds; a reader that just finished may still be
# closing it, so opening is retried this long before giving up.
OPEN_RETRY_S = 10.0


class ClickHouseClient(Protocol):
    """The part of clickhouse-connect's client the sink and the migrations use."""

    def command(
        self,
        cmd: str,
        parameters: dict[str, Any] | None = None,
        *,
        settings: dict[str, Any] | None = None,
    ) -> Any: ...

    def query(
        self,
        query: str,
        parameters: dict[str, Any] | None = None,
        *,
        settings: dict[str, Any] | None = None,
    ) -> Any: ...

    def insert(
        self,
        table: str,
        data: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        *,
        database: str | None = None,
        column_oriented: bool = False,
        settings: dict[str, Any] | None = None,
    ) -> Any: ...

    def raw_insert(
        self,
        table: str,
        column_names: Sequence[str] | None = None,
        insert_block: bytes | None = None,
        settings: dict[str, Any] | None = None,
        fmt: str | None = None,
    ) -> Any: ...

    def close(self) -> None: ...


def is_chdb(dsn: str) -> bool:
    """True for the embedded engine's DSN (`chdb://<directory>`)."""
    return dsn.startswith(CHDB_SCHEME)


def chdb_directory(dsn: str) -> str:
    """The data directory of a `chdb://` DSN."""
    return dsn[len(CHDB_SCHEME) :]


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, for logs and state files."""
    scheme, sep, rest = dsn.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return dsn
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"


def connect(dsn: str, *, open_retry_s: float = OPEN_RETRY_S) -> ClickHouseClient:
    """A clickhouse-connect client for `dsn`; `ClickHouseUnavailable` when it cannot be had."""
    deadline = time.monotonic() + (open_retry_s if is_chdb(dsn) else 0.0)
    while True:
        try:
            client: ClickHouseClient = clickhouse_connect.get_client(dsn=dsn)
        except (ClickHouseError, OSError, RuntimeError) as exc:
            if time.monotonic() < deadline:
                time.sleep(0.25)
                continue
            raise ClickHouseUnavailable(
                f"cannot open ClickHouse at {redact_dsn(dsn)}: {_first_line(exc)}"
            ) from exc
        return client


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
