"""The report's SVG charts: the violations-over-time columns name their days."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

from dua_compliance.svg_charts import stacked_columns


def _labels(svg: str) -> list[str]:
    return re.findall(r">(\d\d-\d\d)</text>", svg)


def test_a_two_day_window_labels_both_days() -> None:
    """`--since 1d` spans two calendar days: the second column is today and says so."""
    days = [date(2026, 11, 28), date(2026, 11, 29)]
    svg = stacked_columns(days, {"high": [0, 5]}, "Violations")
    assert _labels(svg) == ["11-28", "11-29"]


def test_a_long_window_labels_some_days_and_always_the_last() -> None:
    """90 days in at most 720 px: labels do not overlap, and the newest day is named."""
    days = [date(2026, 9, 1) + timedelta(days=i) for i in range(90)]
    svg = stacked_columns(days, {"high": [1] * 90}, "Violations")
    labels = _labels(svg)
    assert 10 <= len(labels) < 90
    assert labels[0] == "09-01"
    assert labels[-1] == days[-1].strftime("%m-%d")
    positions = [float(x) for x in re.findall(r'<text x="(\d+)"[^>]*>\d\d-\d\d</text>', svg)]
    gaps = [b - a for a, b in itertools.pairwise(positions[:-1])]
    assert min(gaps) >= 34  # the regular labels have room; only the forced last may be closer
