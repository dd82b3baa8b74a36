"""Query results as a terminal table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any, Literal

from dua_compliance.json_compact import QueryResult

OutputFormat = Literal["table", "csv", "json"]
MAX_CELL = 60


def render_result(result: QueryResult, fmt: OutputFormat) -> str:
    """The whole result in one of the output formats."""
    if fmt == "csv":
        return _csv(result)
    if fmt == "json":
        return (
            json.dumps(list(result.dicts()), default=_json_value, ensure_ascii=False, indent=2)
            + "\n"
        )
    return _table(result)


def cell_text(value: Any) -> str:
    """How one value reads in a table or CSV cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, list | tuple):
        return ",".join(cell_text(item) for item in value)
    if isinstance(value, dict):
        return ",".join(f"{k}={cell_text(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _table(result: QueryResult) -> str:
    cells = [[_clip(cell_text(v)) for v in row] for row in result.rows]
    widths = [len(name) for name in result.columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [_is_numeric(t) for t in result.types]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(list(result.columns)), "  ".join("-" * w for w in widths)]
    out.extend(line(row) for row in cells)
    out.append(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def _csv(result: QueryResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([cell_text(v) for v in row] for row in result.rows)
    return buffer.getvalue()


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _clip(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _is_numeric(type_name: str) -> bool:
    bare = type_name.removeprefix("Nullable(").removeprefix("LowCardinality(")
    return bare.startswith(("Int", "UInt", "Float", "Decimal"))
