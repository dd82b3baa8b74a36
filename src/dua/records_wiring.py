"""The data map, the record of processing and the anomalies wired to the application's settings.

`dua datamap`, `dua records ropa`, `dua anomalies`, the console and the notifier's periodic
check all read them through here, so each takes its windows and thresholds from the one
`Settings` object.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from dua.read_path import open_reader
from dua.settings import Settings
from dua_compliance import (
    AnomalyConfig,
    DataMap,
    DriftWindows,
    Reader,
    VolumeAnomaly,
    drift_lines,
    find_anomalies,
    observed_map,
)
from dua_policy import Policy, load_policy
from dua_stream.notifier import AnomalyFinding, FindingsSource, RecordsFindings


def drift_windows(settings: Settings) -> DriftWindows:
    """`DUA_DATAMAP_*` as the drift's windows."""
    return DriftWindows(
        unseen_days=settings.datamap_unseen_days, new_days=settings.datamap_new_days
    )


def anomaly_config(settings: Settings) -> AnomalyConfig:
    """`DUA_ANOMALY_*` as the anomaly detector's configuration."""
    return AnomalyConfig(
        baseline_days=settings.anomaly_baseline_days,
        min_baseline_days=settings.anomaly_min_baseline_days,
        threshold=settings.anomaly_threshold,
        min_accesses=settings.anomaly_min_accesses,
    )


@dataclass(frozen=True, slots=True)
class RecordsView:
    """What one reader answers about the map and the volumes, with the settings' windows."""

    reader: Reader
    policy: Policy
    windows: DriftWindows
    anomalies_config: AnomalyConfig

    @classmethod
    def of(cls, settings: Settings, reader: Reader) -> RecordsView:
        return cls(
            reader, load_policy(settings.policy), drift_windows(settings), anomaly_config(settings)
        )

    def data_map(self, since: datetime, now: datetime) -> DataMap:
        return observed_map(self.reader, self.policy, since=since, now=now, windows=self.windows)

    def anomalies(self, since: datetime, now: datetime) -> list[VolumeAnomaly]:
        return find_anomalies(self.reader, since=since, now=now, config=self.anomalies_config)


# The notifier judges the last two hours: the one that ended and the one under way.
ANOMALY_CHECK_WINDOW: Final = timedelta(hours=2)


def findings_source(settings: Settings) -> FindingsSource:
    """What the notifier's periodic check asks: drift and anomalies, through a fresh reader.

    The map's window is DUA_DATAMAP_NEW_DAYS: undeclared use within it, combinations new in it,
    declared pairs unseen in DUA_DATAMAP_UNSEEN_DAYS. Unseen pairs are counted, not announced:
    a promise broader than the practice is for the record, not for the channel."""

    def check() -> RecordsFindings:
        now = datetime.now(UTC)
        reader = open_reader(settings, busy_retry_s=0)
        try:
            view = RecordsView.of(settings, reader)
            data_map = view.data_map(now - timedelta(days=view.windows.new_days), now)
            anomalies = view.anomalies(now - ANOMALY_CHECK_WINDOW, now)
        finally:
            reader.close()
        return RecordsFindings(
            drift_counts={str(kind): count for kind, count in data_map.drift_counts().items()},
            drift_lines=tuple(drift_lines(data_map, ("undeclared", "new"))),
            anomalies=tuple(
                AnomalyFinding(a.service, a.purpose_category, a.category, a.line())
                for a in anomalies
            ),
        )

    return check
