"""Errors of the sink and its read-only endpoint, under the project's root `DuaError`."""

from __future__ import annotations

from dua_schemas import DuaError, TransportError


class ClickHouseUnavailable(TransportError):
    """ClickHouse did not take a write or answer a read; the sink retries with backoff."""

    def __init__(self, message: str, table: str | None = None) -> None:
        self.table = table
        super().__init__(message)


class MigrationError(DuaError):
    """The schema cannot be brought to the current version (edited or unknown migrations)."""


class QueryError(DuaError):
    """ClickHouse refused or failed a read query; the message is ClickHouse's own."""


class QueryRefused(QueryError):
    """A statement sent to the read-only endpoint is not a read."""


class ReaderUnavailable(DuaError):
    """The engine's directory cannot be opened for reading (held by another process, missing)."""


class RowRejected(DuaError):
    """A decoded record that no table row can hold; it is stored as a rejected event."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")
