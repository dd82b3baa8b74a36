"""The planted bulk export: a week of history at this hour of day, then the spike, through the
SDK, all compliant, the history marked so the demo's latency leaves it out."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from dua.simulation.bulk_export import BACKFILL_ATTRIBUTE, plant_bulk_export
from dua_policy import Engine, MemoryState, load_policy
from dua_producer import AuditClient, MemoryTransport, ProducerConfig
from dua_schemas import DataAccessEvent, WireCodec


def test_history_then_spike_through_the_sdk(tmp_path: Path) -> None:
    """History at the same hour of 7 past days (usual level), then 600 EXPORTs now."""
    transport = MemoryTransport()

    def client(service: str) -> AuditClient:
        config = ProducerConfig(subject_key="k", service=service, spool_dir=tmp_path / service)
        return AuditClient(config, transport=transport, metrics=False)

    now = datetime(2026, 12, 5, 14, 20, tzinfo=UTC)
    planted = plant_bulk_export(client, run_id="r1", seed=3, now=now, spike=600)
    codec = WireCodec()
    accesses = [codec.decode(m.value).record for m in transport.messages]
    assert len(accesses) == planted.emitted == planted.history_accesses + 600
    history = [a for a in accesses if a["attributes"].get(BACKFILL_ATTRIBUTE) == "1"]
    spike = [a for a in accesses if a["operation"] == "EXPORT"]
    assert len(history) == planted.history_accesses
    assert len(spike) == 600
    assert {a["attributes"]["sim_run"] for a in accesses} == {"r1"}
    # Per day, the hour itself holds about the usual level.
    at_the_hour = Counter(
        a["occurred_at"].date() for a in history if a["occurred_at"].hour == now.hour
    )
    assert len(at_the_hour) == 7
    assert all(15 <= n <= 45 for n in at_the_hour.values())
    assert all(a["occurred_at"] < now - timedelta(hours=22) for a in history)
    assert planted.hour <= min(a["occurred_at"] for a in spike)
    # Compliant with the default policy: only the volume can find it.
    engine = Engine(load_policy())
    state = MemoryState()
    verdicts = [engine.classify(cast(DataAccessEvent, a), state) for a in accesses[:5] + spike[:5]]
    assert all(not v.violations for v in verdicts)
