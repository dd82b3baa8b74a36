"""Exports streamed as they are read: CSV and JSON of any size, chunk by chunk."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any

from dua_compliance.json_compact import QueryResult

CSV_MEDIA = "text/csv; charset=utf-8"


def _cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ";".join(str(_cell(v)) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def _safe_csv(value: Any) -> Any:
    """Cells a spreadsheet would run as a formula start with a quote instead."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_stream(chunks: Iterable[QueryResult], on_end: Callable[[int], None]) -> Iterator[str]:
    """CSV text: a header, then every row; `on_end(rows)` once the last row is sent."""
    rows = 0
    header_sent = False
    try:
        for chunk in chunks:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            if not header_sent:
                writer.writerow(chunk.columns)
                header_sent = True
            for row in chunk.rows:
                writer.writerow([_safe_csv(_cell(v)) for v in row])
            rows += len(chunk.rows)
            yield buffer.getvalue()
    finally:
        on_end(rows)


def json_stream(chunks: Iterable[QueryResult], on_end: Callable[[int], None]) -> Iterator[str]:
    """One JSON array of objects, written as the chunks arrive."""
    rows = 0
    yield "["
    try:
        for chunk in chunks:
            parts = [
                json.dumps(dict(zip(chunk.columns, row, strict=True)), default=_json_default)
                for row in chunk.rows
            ]
            if parts:
                yield ("," if rows else "") + ",\n".join(parts)
            rows += len(chunk.rows)
        yield "]\n"
    finally:
        on_end(rows)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
