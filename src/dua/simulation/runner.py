"""Drives planned traffic through the SDK at a steady rate: one client per service, as each
service embeds its own."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dua.simulation.traffic import PlannedAccess, PlannedConsent, plan
from dua_producer import AuditClient, ProducerConfig

TICK_S = 0.01  # pacing granularity: 100 small bursts a second keep the rate smooth


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    """What to send and how fast."""

    rate: float  # access events per second
    duration_s: float
    violation_rate: float
    seed: int = 7
    run_id: str = ""  # stamped on every event as attribute `sim_run`, so a run can be counted

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("rate must be above 0 events per second")
        if self.duration_s <= 0:
            raise ValueError("duration must be above 0 seconds")
        if not 0.0 <= self.violation_rate <= 1.0:
            raise ValueError("violation rate must be between 0 and 1")


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
            ),
            metrics=False,
        )


Progress = Callable[[SimulationResult], None]


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

    def _send(self, item: PlannedAccess | PlannedConsent, result: SimulationResult) -> None:
        if isinstance(item, PlannedConsent):
            # Consent is recorded by the service where the user changed the setting.
            self._client("hotpepper-gourmet").emit_consent(
                item.subject, targeting_opt_out=item.targeting_opt_out
            )
            result.consents += 1
            return
        arguments = item.scenario.emit_arguments(item.subject)
        service = arguments.pop("service")
        attributes = {"sim_run": self.options.run_id} if self.options.run_id else None
        self._client(service).emit(attributes=attributes, **arguments)
        result.emitted += 1
        result.planted.update(item.breaks)

    def run(
        self, progress: Progress | None = None, stop: Callable[[], bool] = bool
    ) -> SimulationResult:
        """Send at the configured rate for the configured duration (or until `stop()`)."""
        result = SimulationResult()
        traffic: Iterator[PlannedAccess | PlannedConsent] = plan(
            self.options.seed, self.options.violation_rate
        )
        start = time.monotonic()
        next_report = start + 1.0
        total = int(self.options.duration_s * self.options.rate)
        while not stop():
            now = time.monotonic()
            elapsed = now - start
            if elapsed >= self.options.duration_s:
                # The last tick may have fallen short of the rate: a full run sends exactly
                # rate x duration accesses, so runs can be compared by count.
                while result.emitted < total:
                    self._send(next(traffic), result)
                break
            due = int(min(elapsed + TICK_S, self.options.duration_s) * self.options.rate)
            while result.emitted < due:
                self._send(next(traffic), result)
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
