"""Drives planned traffic through the SDK at a steady rate: one client per service, as each
service embeds its own."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dua.simulation.traffic import PlannedAccess, PlannedConsent, plan
from dua_producer import AuditClient, ProducerConfig

TICK_S = 0.01  # pacing granularity: 100 small bursts a second keep the rate smooth
# An access planned right after a consent change may be sent this long after the change was
# flushed. 0 by default: the processor judges an access by the consent in force at its time
# whatever order the topics arrive in, and the simulator plants those races on purpose.
CONSENT_LEAD_S = 0.0
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
class _Spooled:
    """Consent changes sent late, as a producer's spool would, in the order they fall due."""

    waiting: deque[tuple[float, PlannedConsent, datetime]] = field(default_factory=deque)

    def due(self, now: float) -> Iterator[tuple[PlannedConsent, datetime]]:
        while self.waiting and self.waiting[0][0] <= now:
            _, consent, at = self.waiting.popleft()
            yield consent, at


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
        self._starts: dict[str, datetime] = {}  # a planted sequence's start, by its subject
        self._spooled = _Spooled()

    def _at(self, subject: str, at_ms: int | None) -> datetime | None:
        """The `occurred_at` of a planted item: its sequence's start plus `at_ms`."""
        if at_ms is None:
            return None
        start = self._starts.setdefault(subject, datetime.now(UTC))
        return start + timedelta(milliseconds=at_ms)

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

    def _change_consent(
        self, consent: PlannedConsent, result: SimulationResult, spooled_at: datetime | None = None
    ) -> None:
        at = spooled_at or self._at(consent.subject, consent.at_ms)
        if consent.late_s > 0 and spooled_at is None:  # the spool sends it later
            when = at or datetime.now(UTC)
            self._spooled.waiting.append((time.monotonic() + consent.late_s, consent, when))
            return
        # Consent is recorded by the service where the user changed the setting.
        client = self._client("hotpepper-gourmet")
        client.emit_consent(
            consent.subject,
            targeting_opt_out=consent.targeting_opt_out,
            third_party_link_consent=consent.third_party_link_consent,
            occurred_at=at,
        )
        if consent.at_ms is None:
            # On the broker before the lead of the accesses held back for it starts.
            client.flush(CONSENT_FLUSH_TIMEOUT_S)
        result.consents += 1

    def _send_spooled(self, now: float, result: SimulationResult) -> None:
        for consent, at in self._spooled.due(now):
            self._change_consent(consent, result, at)

    def _send(self, access: PlannedAccess, result: SimulationResult) -> None:
        arguments = access.scenario.emit_arguments(access.subject)
        service = arguments.pop("service")
        attributes = {"sim_run": self.options.run_id} if self.options.run_id else None
        occurred_at = self._at(access.subject, access.at_ms)
        if occurred_at is not None:
            arguments["occurred_at"] = occurred_at
        self._client(service).emit(attributes=attributes, **arguments)
        result.emitted += 1
        result.planted.update(access.breaks)

    def _send_all_spooled(self, result: SimulationResult, stop: Callable[[], bool]) -> None:
        """Send the spooled consent changes still waiting, each once it is due."""
        while self._spooled.waiting and not stop():
            time.sleep(max(0.0, min(0.1, self._spooled.waiting[0][0] - time.monotonic())))
            self._send_spooled(time.monotonic(), result)

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
            self.options.seed, self.options.violation_rate, run=self.options.run_id
        )
        held = _HeldBack(self.options.consent_lead_s)
        start = time.monotonic()
        next_report = start + 1.0
        total = int(self.options.duration_s * self.options.rate)
        while not stop():
            now = time.monotonic()
            for access in held.due(now):
                self._send(access, result)
            self._send_spooled(now, result)
            elapsed = now - start
            if elapsed >= self.options.duration_s:
                # The last tick may have fallen short of the rate: a full run sends exactly
                # rate x duration accesses, so runs can be compared by count.
                self._take(total, traffic, held, result)
                self._send_held(held, result)
                self._send_all_spooled(result, stop)
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
