"""Volume anomalies: hours whose accesses or distinct subjects rise far above their season.

Per service x purpose category x data category, each hour's count is compared with the same
hour of day over the past `baseline_days` days (hours without accesses count as 0): the median
is the expected level, and the scale is the larger of the robust spread (1.4826 x the median
absolute deviation, a standard deviation for normal noise) and the square root of the median
(the spread of a count at that level, so a quiet, regular series does not make every small
wobble an outlier). The score is (count - median) / scale; an hour above `threshold` with at
least `min_accesses` accesses is an anomaly. Only rises are flagged: a bulk export is a rise.
A series needs `min_baseline_days` days of history before it is judged at all.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Any, Final, Literal

from dua_compliance.json_compact import QueryResult
from dua_compliance.reader import Reader
from dua_compliance.sql_files import sql_resource

Measure = Literal["accesses", "subjects"]
MEASURES: Final[tuple[Measure, ...]] = ("accesses", "subjects")
HOUR: Final = timedelta(hours=1)
DAY: Final = timedelta(days=1)
MAD_TO_SIGMA: Final = 1.4826


@dataclass(frozen=True, slots=True)
class AnomalyConfig:
    """How the baseline is taken and when an hour is flagged (defaults: the settings)."""

    baseline_days: int
    min_baseline_days: int
    threshold: float
    min_accesses: int


@dataclass(frozen=True, slots=True)
class VolumeAnomaly:
    """One flagged hour of one series and measure."""

    hour: datetime
    service: str
    purpose_category: str
    category: str
    measure: Measure
    observed: int
    baseline: float
    score: float

    def line(self) -> str:
        return (
            f"{self.hour:%Y-%m-%d %H:00} UTC {self.service} {self.purpose_category} "
            f"{self.category}: {self.observed} {self.measure} against a usual "
            f"{self.baseline:g} (score {self.score:.1f})"
        )


SeriesKey = tuple[str, str, str]  # service, purpose category, data category
Counts = dict[datetime, tuple[int, int]]  # hour -> (accesses, subjects)


def robust_score(observed: float, baseline: Sequence[float]) -> tuple[float, float]:
    """(median of the baseline, score of `observed` against it); see the module docstring."""
    centre = median(baseline)
    spread = median(abs(value - centre) for value in baseline) * MAD_TO_SIGMA
    scale = max(spread, math.sqrt(max(centre, 1.0)))
    return centre, (observed - centre) / scale


def score_series(
    key: SeriesKey,
    counts: Counts,
    *,
    since: datetime,
    now: datetime,
    first_hour: datetime,
    config: AnomalyConfig,
) -> list[VolumeAnomaly]:
    """The anomalies of one series among its hours in [since, now)."""
    found = []
    for hour in sorted(counts):
        if not since <= hour < now:
            continue
        days = [
            hour - DAY * back
            for back in range(1, config.baseline_days + 1)
            if hour - DAY * back >= first_hour
        ]
        if len(days) < config.min_baseline_days:
            continue
        accesses, _subjects = counts[hour]
        if accesses < config.min_accesses:
            continue
        for index, measure in enumerate(MEASURES):
            baseline = [float(counts.get(day, (0, 0))[index]) for day in days]
            observed = counts[hour][index]
            centre, score = robust_score(observed, baseline)
            if score > config.threshold:
                found.append(
                    VolumeAnomaly(
                        hour,
                        *key,
                        measure=measure,
                        observed=observed,
                        baseline=centre,
                        score=round(score, 2),
                    )
                )
    return found


def find_anomalies(
    reader: Reader, *, since: datetime, now: datetime, config: AnomalyConfig
) -> list[VolumeAnomaly]:
    """Every anomaly in the hours from `since` to `now`, the highest score first."""
    start = _hour(since) - DAY * config.baseline_days
    rows = reader.query(
        sql_resource("sql", "volume_hourly.sql"), {"start": start, "end": now}
    ).dicts()
    series = _series(rows)
    found: list[VolumeAnomaly] = []
    for key, counts in series.items():
        found.extend(
            score_series(
                key, counts, since=_hour(since), now=now, first_hour=min(counts), config=config
            )
        )
    return sorted(found, key=lambda a: (-a.score, a.hour, a.service, a.measure))


def _series(rows: Iterable[dict[str, Any]]) -> dict[SeriesKey, Counts]:
    series: dict[SeriesKey, Counts] = defaultdict(dict)
    for row in rows:
        key = (str(row["service"]), str(row["purpose_category"]), str(row["category"]))
        series[key][row["hour"]] = (int(row["accesses"]), int(row["subjects"]))
    return series


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


ANOMALY_COLUMNS: Final = (
    "hour",
    "service",
    "purpose_category",
    "category",
    "measure",
    "observed",
    "baseline",
    "score",
)
_ANOMALY_TYPES: Final = (
    "DateTime('UTC')",
    "String",
    "String",
    "String",
    "String",
    "UInt64",
    "Float64",
    "Float64",
)


def anomalies_result(anomalies: Iterable[VolumeAnomaly]) -> QueryResult:
    """Anomalies as a result table (what `render_result` prints)."""
    rows = [
        (
            a.hour,
            a.service,
            a.purpose_category,
            a.category,
            a.measure,
            a.observed,
            a.baseline,
            a.score,
        )
        for a in anomalies
    ]
    return QueryResult(ANOMALY_COLUMNS, _ANOMALY_TYPES, rows)
