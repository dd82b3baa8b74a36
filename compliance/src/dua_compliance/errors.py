"""Errors of the compliance read side, under the project's root `DuaError`."""

from __future__ import annotations

from dua_schemas import DuaError


class QueryError(DuaError):
    """ClickHouse refused or failed a read query; the message is ClickHouse's own."""


class QueryRefused(QueryError):
    """The read path refused a statement that is not a single read."""


class ReaderUnavailable(DuaError):
    """No way to read the audit tables right now (server or endpoint not answering)."""


class UnknownSavedQuery(DuaError):
    """`--saved NAME` names no query of the library."""
