"""The simulator sends exactly rate x duration accesses through the SDK, stamped with its run id,
and an ad planned after an opt-out only once the consent change is flushed and the lead is over."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import pytest

from dua.simulation import PlannedAccess, SimulationOptions, SimulationResult, Simulator, plan
from dua_producer import AuditClient, MemoryTransport, ProducerConfig
from dua_producer.transport import Receipt
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


@dataclass(frozen=True, slots=True)
class Sent:
    """One call seen by a recording transport: a message sent, or a flush that returned."""

    at: float
    service: str
    topic: str  # "" for a flush
    subject: str = ""


class RecordingTransport(MemoryTransport):
    """A `MemoryTransport` that logs, with the monotonic time, each send and each flush."""

    def __init__(self, service: str, log: list[Sent]) -> None:
        super().__init__()
        self.service = service
        self.log = log

    def send(self, topic: str, key: bytes, value: bytes, receipt: Receipt | None = None) -> None:
        super().send(topic, key, value, receipt)
        subject = str(WireCodec().decode(value).record["subject_id"])
        self.log.append(Sent(time.monotonic(), self.service, topic, subject))

    def flush(self, timeout: float) -> int:
        remaining = super().flush(timeout)
        self.log.append(Sent(time.monotonic(), self.service, ""))
        return remaining


def _recording_run(
    tmp_path: Path, options: SimulationOptions, stop: Callable[[], bool] = bool
) -> tuple[SimulationResult, list[Sent]]:
    log: list[Sent] = []

    def client(service: str) -> AuditClient:
        return AuditClient(
            ProducerConfig(subject_key="k", service=service, spool_dir=tmp_path / service),
            transport=RecordingTransport(service, log),
            metrics=False,
        )

    return Simulator(client, options).run(stop=stop), log


def _planted(options: SimulationOptions, accesses: int) -> Counter[str]:
    """The rules planted by the first `accesses` accesses of the run's plan."""
    planned = (
        i for i in plan(options.seed, options.violation_rate) if isinstance(i, PlannedAccess)
    )
    return Counter(rule for access in islice(planned, accesses) for rule in access.breaks)


def _ads_after_consent(log: list[Sent]) -> dict[Sent, Sent]:
    """Each opt-out planted to precede its ad, with that ad (the planted races are sent in
    other orders, or with more than one change, on purpose: not these)."""
    accesses = [s for s in log if s.topic == "dua.access.raw"]
    consents = [s for s in log if s.topic == "dua.consent"]
    pairs = {}
    for consent in consents:
        ads = [a for a in accesses if a.subject == consent.subject]
        changes = [c for c in consents if c.subject == consent.subject]
        if len(ads) == 1 and len(changes) == 1 and ads[0].at > consent.at:
            pairs[consent] = ads[0]
    return pairs


def _opt_outs(options: SimulationOptions, accesses: int) -> int:
    """The opt-outs planted to precede their ad among the first `accesses` accesses."""
    count = seen = 0
    for item in plan(options.seed, options.violation_rate):
        if isinstance(item, PlannedAccess):
            seen += 1
            if seen > accesses:
                return count
            count += item.after_consent
    return count


def test_ad_after_an_opt_out_waits_the_lead_after_the_consent_is_flushed(tmp_path: Path) -> None:
    """Each planted opt-out is flushed, then its ad is sent no earlier than the lead after it,
    and the run still sends exactly rate x duration accesses, planting what it counts."""
    lead = 0.1
    options = SimulationOptions(
        rate=400, duration_s=0.5, violation_rate=1.0, seed=33, consent_lead_s=lead
    )
    result, log = _recording_run(tmp_path, options)
    assert result.emitted == 200
    assert len([s for s in log if s.topic == "dua.access.raw"]) == 200
    pairs = _ads_after_consent(log)
    assert len(pairs) == _opt_outs(options, 200) > 0
    assert result.planted == _planted(options, 200)
    for consent, ad in pairs.items():
        flushed = next(
            s for s in log if not s.topic and s.service == consent.service and s.at >= consent.at
        )
        assert flushed.at + lead <= ad.at


def test_accesses_held_back_at_the_end_are_sent_once_due(tmp_path: Path) -> None:
    """With a lead longer than the run, the held-back ads are sent after it, before close."""
    lead = 0.3
    # Seed 12 plans two opt-outs and one link consent, each before its access, in the 40.
    options = SimulationOptions(
        rate=200, duration_s=0.2, violation_rate=1.0, seed=12, consent_lead_s=lead
    )
    result, log = _recording_run(tmp_path, options)
    assert result.emitted == len([s for s in log if s.topic == "dua.access.raw"]) == 40
    pairs = _ads_after_consent(log)
    assert len(pairs) == result.consents == 3
    assert result.planted == _planted(options, 40)
    assert all(ad.at - consent.at >= lead for consent, ad in pairs.items())
    assert result.elapsed_s >= lead


def test_a_stopped_run_drops_and_does_not_count_accesses_still_held_back(tmp_path: Path) -> None:
    """Stopped before the lead is over, the run never sends the ad, nor counts it as planted."""
    calls = iter(range(1_000))
    options = SimulationOptions(
        rate=1_000, duration_s=5.0, violation_rate=1.0, seed=30, consent_lead_s=10.0
    )
    # One tick only: the first 10 accesses, the 4th of them an ad after an opt-out.
    result, log = _recording_run(tmp_path, options, stop=lambda: next(calls) >= 1)
    accesses = [s for s in log if s.topic == "dua.access.raw"]
    (consent,) = [s for s in log if s.topic == "dua.consent"]
    assert result.consents == 1
    assert result.emitted == len(accesses) == 9
    assert all(a.subject != consent.subject for a in accesses)
    assert result.planted == _planted(options, 10) - Counter({"targeting_opted_out": 1})


def test_negative_consent_lead_is_refused() -> None:
    """A consent lead below 0 s is an error."""
    with pytest.raises(ValueError, match="consent lead"):
        SimulationOptions(rate=1, duration_s=1, violation_rate=0, consent_lead_s=-0.1)
