"""Query results as ClickHouse formats them in JSONCompact, turned into Python values.

Every reader (chDB in-process, the sink's endpoint, a server over HTTP) gets the same bytes
from ClickHouse and the same conversion here, so a report renders the same whatever served it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from dua_compliance.errors import QueryError


@dataclass(frozen=True, slots=True)
class QueryResult:
    """Column names, their ClickHouse types, and the rows."""

    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> Iterator[dict[str, Any]]:
        """Each row as a column → value dict."""
        for row in self.rows:
            yield dict(zip(self.columns, row, strict=True))

    def column(self, name: str) -> list[Any]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


def parse_json_compact(payload: bytes) -> QueryResult:
    """Parse a JSONCompact response body."""
    try:
        # Stored bytes (a rejected payload's prefix) need not be UTF-8; JSON must be.
        document = json.loads(payload.decode("utf-8", errors="replace"))
        meta = document["meta"]
        data = document["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise QueryError(f"ClickHouse answered something that is not JSONCompact: {exc}") from exc
    columns = tuple(str(column["name"]) for column in meta)
    types = tuple(str(column["type"]) for column in meta)
    converters = [_converter(type_name) for type_name in types]
    rows = [
        tuple(convert(value) for convert, value in zip(converters, row, strict=True))
        for row in data
    ]
    return QueryResult(columns, types, rows)


def _converter(type_name: str) -> Any:
    name, args = _split_type(type_name)
    if name in ("Nullable", "LowCardinality"):
        inner = _converter(args[0])
        return lambda value: None if value is None else inner(value)
    if name == "Array":
        item = _converter(args[0])
        return lambda value: [item(v) for v in value]
    if name == "Map":
        key, val = _converter(args[0]), _converter(args[1])
        return lambda value: {key(k): val(v) for k, v in value.items()}
    if name == "Tuple":
        parts = [_converter(_strip_tuple_name(arg)) for arg in args]
        return lambda value: tuple(
            p(v)
            for p, v in zip(
                parts, value.values() if isinstance(value, dict) else value, strict=False
            )
        )
    if name.startswith(("Int", "UInt")):
        return int
    if name.startswith("Float"):
        return float
    if name == "Bool":
        return bool
    if name in ("Date", "Date32"):
        return date.fromisoformat
    if name in ("DateTime", "DateTime64"):
        zone = _zone(args[-1] if args and not args[-1].isdigit() else None)
        return lambda value: datetime.fromisoformat(value).replace(tzinfo=zone)
    return lambda value: value


def _zone(quoted: str | None) -> tzinfo:
    if quoted is None:
        return UTC
    name = quoted.strip().strip("'")
    return UTC if name in ("UTC", "") else ZoneInfo(name)


def _strip_tuple_name(arg: str) -> str:
    # Named tuple elements read "name Type".
    head, _, rest = arg.partition(" ")
    return rest if rest and "(" not in head else arg


def _split_type(type_name: str) -> tuple[str, list[str]]:
    """`Map(String, Array(UInt8))` → ("Map", ["String", "Array(UInt8)"])."""
    type_name = type_name.strip()
    open_at = type_name.find("(")
    if open_at < 0 or not type_name.endswith(")"):
        return type_name, []
    name, inner = type_name[:open_at], type_name[open_at + 1 : -1]
    args, depth, start, quoted = [], 0, 0, False
    for index, ch in enumerate(inner):
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and ch == "," and depth == 0:
            args.append(inner[start:index].strip())
            start = index + 1
    args.append(inner[start:].strip())
    return name, args
