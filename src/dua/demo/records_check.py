"""The demo's look at the records once everything landed: the data map's drift, and whether the
planted bulk export was found among the volume anomalies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dua.read_path import open_reader
from dua.records_wiring import RecordsView
from dua.settings import Settings
from dua.simulation.bulk_export import PlantedSpike
from dua_compliance import drift_lines
from dua_schemas import EPOCH

SHOWN_DRIFT = 5  # drift lines printed (of each kind); `dua datamap` lists them all


def records_lines(settings: Settings, planted: PlantedSpike | None) -> list[str]:
    """The summary's lines on drift and the anomaly: counts, examples, planted and found."""
    now = datetime.now(UTC)
    reader = open_reader(settings)
    try:
        view = RecordsView.of(settings, reader)
        data_map = view.data_map(EPOCH, now)
        anomalies = view.anomalies(now - timedelta(hours=3), now)
    finally:
        reader.close()
    counts = data_map.drift_counts()
    lines = [
        f"data map  {len(data_map.entries) - counts['unseen']:,} combinations observed; drift: "
        f"{counts['undeclared']} undeclared, {counts['new']} new in {view.windows.new_days}d, "
        f"{counts['unseen']} declared but unseen in {view.windows.unseen_days}d "
        "(`dua datamap`)",
    ]
    for kind in ("undeclared", "new"):
        shown = drift_lines(data_map, (kind,))
        lines += [f"  {line}" for line in shown[:SHOWN_DRIFT]]
        if len(shown) > SHOWN_DRIFT:
            lines.append(f"  … and {len(shown) - SHOWN_DRIFT} more {kind}")
    if planted is None:
        return lines
    hits = [
        a
        for a in anomalies
        if (a.service, a.purpose_category, a.category, a.hour)
        == (planted.service, planted.purpose_category, planted.category, planted.hour)
    ]
    found = "; ".join(a.line() for a in hits) if hits else "not found [MISSING]"
    others = len(anomalies) - len(hits)
    lines += [
        f"anomaly planted: {planted.describe()}",
        f"anomaly found:   {found}" + (" [OK]" if hits else ""),
    ]
    if others:
        lines.append(f"other anomalies: {others} (`dua anomalies --since 3h`)")
    return lines
