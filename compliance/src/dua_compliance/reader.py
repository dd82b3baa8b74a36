"""`Reader`: what every compliance question reads the audit tables through.

The compliance side speaks ClickHouse's HTTP interface only (`HttpReader`): a ClickHouse
server, the sink's read-only endpoint while the sink owns the embedded engine, or an
endpoint the application opens on the engine's directory when no sink runs. It never opens
the engine itself, so it has no dependency on the sink or on chDB.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from dua_compliance.json_compact import QueryResult


class Reader(Protocol):
    """Runs read queries; values come back as Python types (see `json_compact`)."""

    description: str

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> QueryResult: ...

    def close(self) -> None: ...
