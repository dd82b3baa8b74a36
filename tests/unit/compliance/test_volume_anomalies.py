"""The anomaly score on plain series: the same hour of past days, median and MAD, rises only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dua_compliance import AnomalyConfig, VolumeAnomaly
from dua_compliance.volume_anomalies import robust_score, score_series

CONFIG = AnomalyConfig(baseline_days=7, min_baseline_days=3, threshold=6.0, min_accesses=20)
NOON = datetime(2026, 12, 1, 12, tzinfo=UTC)
KEY = ("jalan", "marketing", "personal")


def _history(level: int, days: int) -> dict[datetime, tuple[int, int]]:
    counts = {NOON - timedelta(days=d): (level + d % 3, level) for d in range(1, days + 1)}
    counts.update({NOON - timedelta(days=d, hours=3): (5 * level, level) for d in range(days)})
    return counts


def _judged(counts: dict[datetime, tuple[int, int]]) -> list[VolumeAnomaly]:
    """The anomalies of the noon hour against its history."""
    return score_series(
        KEY,
        counts,
        since=NOON,
        now=NOON + timedelta(hours=1),
        first_hour=min(counts),
        config=CONFIG,
    )


def test_score_is_distance_from_the_median_in_robust_spreads() -> None:
    """Median 30, MAD 1 → scale max(1.48, √30); 60 scores (60-30)/√30."""
    centre, score = robust_score(60, [29, 30, 31, 30, 29, 31, 30])
    assert centre == 30
    assert round(score, 2) == round(30 / 30**0.5, 2)


def test_only_the_same_hour_of_day_is_the_baseline() -> None:
    """Busy hours 3 hours earlier each day do not raise the noon baseline."""
    counts = _history(30, 7)
    counts[NOON] = (300, 250)
    (accesses, subjects) = _judged(counts)
    assert (accesses.measure, accesses.observed, accesses.baseline) == ("accesses", 300, 31)
    assert (subjects.measure, subjects.observed, subjects.baseline) == ("subjects", 250, 30)


def test_a_drop_and_a_small_rise_are_not_anomalies() -> None:
    """Only rises far above the season count; a quiet hour is no bulk export."""
    for observed in (0, 45):
        counts = _history(30, 7)
        counts[NOON] = (observed, observed)
        found = _judged(counts)
        assert found == []


def test_too_little_history_or_too_few_accesses_is_not_judged() -> None:
    """Two days of history, or a spike of 15 accesses, is never flagged."""
    short = _history(30, 2)
    short[NOON] = (300, 300)
    quiet = {NOON - timedelta(days=d): (0, 0) for d in range(1, 8)}
    quiet[NOON] = (15, 15)
    for counts in (short, quiet):
        assert _judged(counts) == []
