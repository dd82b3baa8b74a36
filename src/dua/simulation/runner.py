"""Drives planned traffic through the SDK at a steady rate: one client per service, as each
service embeds its own."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dua.simulation.traffic import PlannedAccess, PlannedConsent, plan
from dua_producer import AuditClient, ProducerConfig

TICK_S = 0.01  # pacing granularity: 100 small bursts a second keep the rate smooth
# The processor consumes the consent and raw topics independently, so an ad sent in the same
# millisecond as the opt-out planned before it could be classified before the opt-out reached
# the consent table (a demo run found 50 of 53 planted `targeting_opted_out`). Real users opt
# out and are shown ads later: an access planned right after a consent change is sent this
# long after the change was flushed to the broker.
CONSENT_LEAD_S = 2.0
# Bounded, so a broker outage slows the run down rather than stalling it at each consent change.
CONSENT_FLUSH_TIMEOUT_S = 1.0


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    """What to send and how fast."""

    rate: float  # access events per second
    duration_s: float
    violation_rate: float
    seed: int = 7
    run_id: str = ""  # stamped on every event as attribute `sim_run`, so a run can be counted
    consent_lead_s: float = CONSENT_LEAD_S  # delay of an access after its subject's consent change

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("rate must be above 0 events per second")
        if self.duration_s <= 0:
            raise ValueError("duration must be above 0 seconds")
        if not 0.0 <= self.violation_rate <= 1.0:
            raise ValueError("violation rate must be between 0 and 1")
        if self.consent_lead_s < 0:
            raise ValueError("consent lead must be 0 seconds or more")


@dataclass
class SimulationResult:
    """What the simulator sent, and what it planted for the pipeline to find."""

    emitted: int = 0
    consents: int = 0
    planted: Counter[str] = field(default_factory=Counter)
    delivered: int = 0
    spooled: int = 0
    elapsed_s: float = 0.0


@dataclass(frozen=True, slots=True)
class ClientFactory:
    """Builds the SDK client of one service (the same settings for all but the service)."""

    bootstrap: str
    subject_key: str
    topic_raw: str
    topic_consent: str
    spool_root: Path
    kafka_options: dict[str, str] = field(default_factory=dict)
    schema_registry_url: str | None = None  # None: single-object framing, no registry

    def __call__(self, service: str) -> AuditClient:
        return AuditClient(
            ProducerConfig(
                subject_key=self.subject_key,
                service=service,
                bootstrap_servers=self.bootstrap,
                topic_raw=self.topic_raw,
                topic_consent=self.topic_consent,
                spool_dir=self.spool_root / service,
                kafka_options=self.kafka_options,
                schema_registry_url=self.schema_registry_url,
            ),
            metrics=False,
        )


Progress = Callable[[SimulationResult], None]


@dataclass(slots=True)
class _HeldBack:
    """Accesses held back after their subject's consent change, in the order they fall due."""

    lead_s: float
    waiting: deque[tuple[float, PlannedAccess]] = field(default_factory=deque)

    def __len__(self) -> int:
        return len(self.waiting)

    def hold(self, access: PlannedAccess) -> None:
        self.waiting.append((time.monotonic() + self.lead_s, access))

    def due(self, now: float) -> Iterator[PlannedAccess]:
        while self.waiting and self.waiting[0][0] <= now:
            yield self.waiting.popleft()[1]

    def next_due(self) -> float:
        return self.waiting[0][0]


class Simulator:
    """Sends planned traffic; `run` returns when the duration is over and all is flushed."""

    def __init__(self, clients: Callable[[str], AuditClient], options: SimulationOptions) -> None:
        self._make_client = clients
        self._clients: dict[str, AuditClient] = {}
        self.options = options
        self._closed = False

    def _client(self, service: str) -> AuditClient:
        client = self._clients.get(service)
        if client is None:
            client = self._clients[service] = self._make_client(service)
        return client

    def _take(
        self,
        count: int,
        traffic: Iterator[PlannedAccess | PlannedConsent],
        held: _HeldBack,
        result: SimulationResult,
    ) -> None:
        """Take planned traffic until `count` accesses are sent or held back."""
        while result.emitted + len(held) < count:
            item = next(traffic)
            if isinstance(item, PlannedConsent):
                self._change_consent(item, result)
            elif item.after_consent:
                held.hold(item)
            else:
                self._send(item, result)

    def _change_consent(self, consent: PlannedConsent, result: SimulationResult) -> None:
        # Consent is recorded by the service where the user changed the setting.
        client = self._client("hotpepper-gourmet")
        client.emit_consent(consent.subject, targeting_opt_out=consent.targeting_opt_out)
        # On the broker before the lead of the accesses held back for it starts.
        client.flush(CONSENT_FLUSH_TIMEOUT_S)
        result.consents += 1

    def _send(self, access: PlannedAccess, result: SimulationResult) -> None:
        arguments = access.scenario.emit_arguments(access.subject)
        service = arguments.pop("service")
        attributes = {"sim_run": self.options.run_id} if self.options.run_id else None
        self._client(service).emit(attributes=attributes, **arguments)
        result.emitted += 1
        result.planted.update(access.breaks)

    def _send_held(self, held: _HeldBack, result: SimulationResult) -> None:
        """Send every access still held back, each once it is due."""
        while held:
            time.sleep(max(0.0, held.next_due() - time.monotonic()))
            for access in held.due(time.monotonic()):
                self._send(access, result)

    def run(
        self, progress: Progress | None = None, stop: Callable[[], bool] = bool
    ) -> SimulationResult:
        """Send at the configured rate for the configured duration (or until `stop()`).

        Accesses planned right after a consent change are sent `consent_lead_s` after it; a
        full run waits for the last of them, a stopped run drops them (they are not counted).
        """
        result = SimulationResult()
        traffic: Iterator[PlannedAccess | PlannedConsent] = plan(
            self.options.seed, self.options.violation_rate
        )
        held = _HeldBack(self.options.consent_lead_s)
        start = time.monotonic()
        next_report = start + 1.0
        total = int(self.options.duration_s * self.options.rate)
        while not stop():
            now = time.monotonic()
            for access in held.due(now):
                self._send(access, result)
            elapsed = now - start
            if elapsed >= self.options.duration_s:
                # The last tick may have fallen short of the rate: a full run sends exactly
                # rate x duration accesses, so runs can be compared by count.
                self._take(total, traffic, held, result)
                self._send_held(held, result)
                break
            due = int(min(elapsed + TICK_S, self.options.duration_s) * self.options.rate)
            self._take(due, traffic, held, result)
            if progress is not None and now >= next_report:
                self._tally(result)
                progress(result)
                next_report = now + 1.0
            time.sleep(TICK_S)
        result.elapsed_s = time.monotonic() - start
        self.close()
        self._tally(result)
        if progress is not None:
            progress(result)
        return result

    def _tally(self, result: SimulationResult) -> None:
        stats = [client.stats() for client in self._clients.values()]
        result.delivered = sum(s.delivered for s in stats)
        result.spooled = sum(s.spooled for s in stats)

    def close(self) -> None:
        """Deliver (or spool) everything sent, then close every client."""
        if self._closed:
            return
        self._closed = True
        for client in self._clients.values():
            client.flush(30.0)
        for client in self._clients.values():
            client.close()
