"""Generated access histories for the data map and anomaly tests: weeks of hourly traffic with a
daily season and realistic noise, written straight into `access_events` (the sink's views then
keep the rollups, as they do for the sink's own inserts)."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

HOUR = timedelta(hours=1)

EVENT_COLUMNS = (
    "event_id",
    "occurred_at",
    "service",
    "subject_id",
    "elements",
    "element_categories",
    "purpose",
    "purpose_category",
    "operation",
    "processing",
    "destination_kind",
    "destination_name",
    "record_count",
)
VIOLATION_COLUMNS = (
    "violation_id",
    "event_id",
    "occurred_at",
    "rule",
    "severity",
    "mode",
    "service",
    "purpose",
    "purpose_category",
    "destination_kind",
    "elements",
)


@dataclass(frozen=True)
class Series:
    """One kind of access a service makes, at `rate` accesses per hour on average."""

    service: str
    purpose: str
    elements: tuple[tuple[str, str], ...]  # (code, category)
    rate: float
    operation: str = "READ"
    destination_kind: str = "INTERNAL"
    destination_name: str = ""
    processing: str = "RAW"


def access_row(
    series: Series, at: datetime, subject: str, *, operation: str | None = None
) -> list[Any]:
    """One access event row of `series` at `at`."""
    return [
        uuid.uuid4().hex,
        at,
        series.service,
        subject,
        [code for code, _ in series.elements],
        [category for _, category in series.elements],
        series.purpose,
        series.purpose.split(".", maxsplit=1)[0],
        operation or series.operation,
        series.processing,
        series.destination_kind,
        series.destination_name,
        1,
    ]


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 40:  # the normal approximation is close, and Knuth's loop slow
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def seasonal_history(
    series: Sequence[Series], *, end: datetime, days: int, seed: int, subjects: int = 400
) -> list[list[Any]]:
    """Hourly traffic of every series over `days` days before `end` (an hour boundary).

    The rate follows the day (busy evenings, quiet nights), each day has its own level (±15%),
    and each hour's count is Poisson around that: the noise a real service shows."""
    rng = random.Random(seed)
    rows: list[list[Any]] = []
    start = end - timedelta(days=days)
    day_level: dict[int, float] = {}
    hour = start
    while hour < end:
        level = day_level.setdefault(hour.toordinal(), rng.uniform(0.85, 1.15))
        season = 1.0 + 0.8 * math.sin(2 * math.pi * (hour.hour - 9) / 24)
        for one in series:
            for _ in range(_poisson(rng, one.rate * season * level)):
                at = hour + timedelta(seconds=rng.randrange(3600))
                rows.append(access_row(one, at, f"{rng.randrange(subjects):064x}"))
        hour += HOUR
    return rows


def spike(series: Series, hour: datetime, count: int, seed: int) -> list[list[Any]]:
    """A bulk export: `count` EXPORT accesses of `series` within one hour, many subjects."""
    rng = random.Random(seed)
    return [
        access_row(
            series,
            hour + timedelta(seconds=rng.randrange(3600)),
            f"{rng.randrange(10**9):064x}",
            operation="EXPORT",
        )
        for _ in range(count)
    ]


def violation_row(event: Sequence[Any], rule: str, elements: Sequence[str]) -> list[Any]:
    """A violation of `rule` on the access event row `event`, naming `elements`."""
    by_name = dict(zip(EVENT_COLUMNS, event, strict=True))
    return [
        uuid.uuid4().hex,
        by_name["event_id"],
        by_name["occurred_at"],
        rule,
        "medium",
        "active",
        by_name["service"],
        by_name["purpose"],
        by_name["purpose_category"],
        by_name["destination_kind"],
        list(elements),
    ]


def write(
    client: Any, database: str, events: list[list[Any]], violations: Sequence[list[Any]] = ()
) -> None:
    """Insert the rows as the sink would (its views fill the rollups)."""
    for first in range(0, len(events), 50_000):
        client.insert(
            f"{database}.access_events", events[first : first + 50_000], column_names=EVENT_COLUMNS
        )
    if violations:
        client.insert(f"{database}.violations", list(violations), column_names=VIOLATION_COLUMNS)
