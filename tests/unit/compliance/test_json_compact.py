"""JSONCompact answers become the same Python values whichever reader served them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from dua_compliance import QueryError
from dua_compliance.json_compact import parse_json_compact


def _payload(meta: list[tuple[str, str]], rows: list[list[object]]) -> bytes:
    document = {"meta": [{"name": n, "type": t} for n, t in meta], "data": rows, "rows": len(rows)}
    return json.dumps(document).encode()


def test_types_are_converted_by_column_type() -> None:
    """Integers (even quoted 64-bit ones), times with zones, arrays, maps and nulls convert."""
    result = parse_json_compact(
        _payload(
            [
                ("n", "UInt64"),
                ("t", "DateTime64(3, 'UTC')"),
                ("d", "Date"),
                ("tags", "Array(LowCardinality(String))"),
                ("attrs", "Map(LowCardinality(String), String)"),
                ("maybe", "Nullable(Int32)"),
                ("ok", "Bool"),
                ("share", "Float64"),
            ],
            [
                [
                    "18446744073709551615",
                    "2026-01-05 09:30:00.250",
                    "2026-01-05",
                    ["a"],
                    {"k": "v"},
                    None,
                    True,
                    0.5,
                ]
            ],
        )
    )
    assert result.columns[0] == "n"
    assert result.rows == [
        (
            18446744073709551615,
            datetime(2026, 1, 5, 9, 30, 0, 250000, tzinfo=UTC),
            date(2026, 1, 5),
            ["a"],
            {"k": "v"},
            None,
            True,
            0.5,
        )
    ]
    assert next(result.dicts())["tags"] == ["a"]


def test_invalid_utf8_in_stored_bytes_does_not_break_parsing() -> None:
    """A rejected payload's raw prefix comes back with replacement characters."""
    body = b'{"meta":[{"name":"p","type":"String"}],"data":[["\xff\xfex"]]}'
    assert parse_json_compact(body).rows[0][0].endswith("x")


def test_non_json_answer_is_a_query_error() -> None:
    """Anything but JSONCompact is reported as such, not as a crash."""
    with pytest.raises(QueryError, match="JSONCompact"):
        parse_json_compact(b"1\t2\n")
