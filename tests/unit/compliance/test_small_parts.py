"""Durations, parameters, output formats and the saved-query library."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from dua_compliance import (
    QueryResult,
    UnknownSavedQuery,
    parse_duration,
    render_result,
    saved_queries,
    saved_query,
)
from dua_compliance.query_parameters import format_parameter
from dua_schemas import ConfigError

REQUIRED_QUERIES = {
    "payroll_access",
    "informative_identification",
    "purpose_category_matrix",
    "violations_by_rule_service",
    "cross_use",
    "external_destinations",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        (" 12h ", timedelta(hours=12)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    """`--since` takes a number and a unit."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["7", "d7", "1y", "-1d", ""])
def test_bad_durations_are_config_errors(text: str) -> None:
    """Anything else names the accepted form."""
    with pytest.raises(ConfigError, match=r"e\.g\. 7d"):
        parse_duration(text)


def test_parameters_in_clickhouse_text_form() -> None:
    """Times go as UTC text with milliseconds; arrays quote their strings."""
    when = datetime(2026, 1, 5, 9, 30, 0, 123456, tzinfo=UTC)
    assert format_parameter(when) == "2026-01-05 09:30:00.123"
    assert format_parameter(["a'b", "c"]) == "['a\\'b','c']"
    assert format_parameter(True) == "true"
    assert format_parameter(date(2026, 1, 5)) == "2026-01-05"
    with pytest.raises(ValueError, match="timezone"):
        format_parameter(datetime(2026, 1, 5))  # noqa: DTZ001 - the point of the test


def test_library_holds_the_required_questions_with_descriptions() -> None:
    """Every required saved query exists, has a description, and takes the `since` window."""
    library = {query.name: query for query in saved_queries()}
    assert set(library) >= REQUIRED_QUERIES
    for name in REQUIRED_QUERIES:
        assert library[name].description != "(no description)"
        assert library[name].parameters == {"since"}


def test_unknown_saved_query_lists_the_library() -> None:
    """A wrong name is answered with the names that exist."""
    with pytest.raises(UnknownSavedQuery, match="payroll_access"):
        saved_query("payroll")


def test_result_formats() -> None:
    """Tables align, CSV quotes, JSON keeps types readable."""
    result = QueryResult(
        ("service", "n", "at"),
        ("String", "UInt64", "DateTime64(3, 'UTC')"),
        [("jalan, inc", 3, datetime(2026, 1, 5, tzinfo=UTC))],
    )
    table = render_result(result, "table").splitlines()
    assert table[0].split() == ["service", "n", "at"]
    assert table[-1] == "(1 row)"
    assert render_result(result, "csv").splitlines()[1] == '"jalan, inc",3,2026-01-05 00:00:00.000Z'
    assert json.loads(render_result(result, "json")) == [
        {"service": "jalan, inc", "n": 3, "at": "2026-01-05T00:00:00+00:00"}
    ]
