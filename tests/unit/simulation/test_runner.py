"""The simulator sends exactly rate x duration accesses through the SDK, stamped with its run id."""

from __future__ import annotations

from pathlib import Path

from dua.simulation import SimulationOptions, Simulator
from dua_producer import AuditClient, MemoryTransport, ProducerConfig
from dua_schemas import WireCodec


def test_full_run_sends_rate_times_duration_and_stamps_the_run(tmp_path: Path) -> None:
    """A 0.5 s run at 400/s sends 200 accesses from several services, each stamped sim_run=r1."""
    transports: dict[str, MemoryTransport] = {}

    def client(service: str) -> AuditClient:
        transports[service] = MemoryTransport()
        return AuditClient(
            ProducerConfig(subject_key="k", service=service, spool_dir=tmp_path / service),
            transport=transports[service],
            metrics=False,
        )

    options = SimulationOptions(rate=400, duration_s=0.5, violation_rate=0.5, seed=3, run_id="r1")
    result = Simulator(client, options).run()
    assert result.emitted == 200
    assert sum(result.planted.values()) > 0
    codec = WireCodec()
    accesses = [
        codec.decode(m.value).record
        for t in transports.values()
        for m in t.messages
        if m.topic == "dua.access.raw"
    ]
    assert len(accesses) == 200
    assert {a["attributes"]["sim_run"] for a in accesses} == {"r1"}
    assert len({a["service"] for a in accesses}) >= 3
    assert all(not str(a["subject_id"]).startswith("user-") for a in accesses)
