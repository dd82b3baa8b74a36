"""What the data map and anomalies pages need beside the reader: the policy and the windows."""

from __future__ import annotations

from dataclasses import dataclass

from dua_compliance.datamap import DriftWindows
from dua_compliance.volume_anomalies import AnomalyConfig
from dua_policy import Policy


@dataclass(frozen=True, slots=True)
class RecordsInputs:
    """The policy in force and the application's drift windows and anomaly thresholds."""

    policy: Policy
    windows: DriftWindows
    anomalies: AnomalyConfig
