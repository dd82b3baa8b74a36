"""The data map, the record of processing and the anomalies wired to the application's settings.

`dua datamap`, `dua records ropa`, `dua anomalies`, the console and the notifier's periodic
check all read them through here, so each takes its windows and thresholds from the one
`Settings` object.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dua.settings import Settings
from dua_compliance import (
    AnomalyConfig,
    DataMap,
    DriftWindows,
    Reader,
    VolumeAnomaly,
    find_anomalies,
    observed_map,
)
from dua_policy import Policy, load_policy


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
