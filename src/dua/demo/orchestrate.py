"""`dua demo`: broker, processor, sink and traffic on this machine, then a summary.

Every process it starts is stopped on the way out, whether the run ends, fails or is
interrupted with Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dua.demo.children import Child, run_dua
from dua.demo.landing import RunQueries
from dua.demo.records_check import records_lines
from dua.demo.summary import DemoSummary
from dua.kafka import bootstrap_servers, client_config, ensure_topics, free_ports, group_lag
from dua.settings import Settings
from dua.simulation import ClientFactory, SimulationOptions, SimulationResult, Simulator
from dua.simulation.bulk_export import PlantedSpike, plant_bulk_export
from dua_schemas import DuaError
from dua_sink import read_record

Echo = Callable[[str], None]
MS_PER_HOUR = 3_600_000


class DemoError(DuaError):
    """The demo could not complete; the message says which step and where its log is."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    rate: float = 300.0
    duration_s: float = 20.0
    violation_rate: float = 0.1
    seed: int = 7
    land_timeout_s: float = 180.0
    ready_timeout_s: float = 90.0
    report: Path | None = None


def subject_key(settings: Settings, echo: Echo) -> str:
    """The pseudonym key: DUA_SUBJECT_KEY, else a demo key kept (0600) in the state dir."""
    if settings.subject_key is not None:
        return settings.subject_key.get_secret_value()
    path = settings.state_dir / "demo-subject.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
        echo(f"demo: no DUA_SUBJECT_KEY set; generated a demo pseudonym key in {path}")
    return path.read_text().strip()


class Demo:
    """One run of the demo."""

    def __init__(self, settings: Settings, options: DemoOptions, echo: Echo) -> None:
        self.settings = settings
        self.options = options
        self.echo = echo
        self.run_id = uuid.uuid4().hex[:12]
        self.log_dir = (settings.state_dir / "logs").resolve()
        self.queries = RunQueries(settings, self.run_id)
        processor_port, sink_port = free_ports(2)
        self.env = {
            **os.environ,
            "DUA_STATE_DIR": str(settings.state_dir.resolve()),
            # Free ports: the demo must not collide with a pipeline already running here.
            "DUA_PROCESSOR_METRICS_PORT": str(processor_port),
            "DUA_SINK_METRICS_PORT": str(sink_port),
        }

    # -- steps -----------------------------------------------------------------------------
    def _broker(self, stack: ExitStack) -> str:
        if self.settings.kafka_bootstrap:
            bootstrap = self.settings.kafka_bootstrap
            ensure_topics(
                bootstrap,
                self.settings.topics.names(),
                partitions=self.settings.topic_partitions,
                retention_ms=self.settings.topic_retention_hours * MS_PER_HOUR,
                config=client_config(self.settings),
            )
            self.echo(f"demo: using the Kafka cluster at {bootstrap}")
            return bootstrap
        already = run_dua(["kafka", "status"], self.env).returncode == 0
        self.echo("demo: starting the local Kafka broker (first run resolves its jars with Maven)")
        up = run_dua(["kafka", "up"], self.env)
        if up.returncode != 0:
            raise DemoError(f"`dua kafka up` failed:\n{up.stdout}{up.stderr}")
        if not already:
            stack.callback(self._stop_broker)
        self.echo("  " + up.stdout.strip().replace("\n", "\n  "))
        return bootstrap_servers(self.settings)

    def _stop_broker(self) -> None:
        down = run_dua(["kafka", "down"], self.env)
        self.echo("demo: stopped the local Kafka broker" if down.returncode == 0 else down.stderr)

    def _start(self, stack: ExitStack, name: str) -> Child:
        child = Child(name, ["run", name], self.env, self.log_dir)
        stack.callback(self._stop_child, child)
        self.echo(f"demo: started the {name} (pid {child.pid}, log {child.log_path})")
        return child

    def _stop_child(self, child: Child) -> None:
        code = child.stop()
        self.echo(f"demo: stopped the {child.name} (exit status {code})")

    def _check(self, *children: Child) -> None:
        for child in children:
            if not child.alive():
                raise DemoError(
                    f"the {child.name} exited early; the end of {child.log_path}:\n"
                    + child.log_tail()
                )

    def _wait_for_sink(self, sink: Child) -> None:
        deadline = time.monotonic() + self.options.ready_timeout_s
        while time.monotonic() < deadline:
            self._check(sink)
            record = read_record(self.settings.state_dir)
            # Only *this* sink's record counts: one left by a sink that was killed would send
            # the query to open the chDB directory from this process instead.
            if record is not None and record.pid == sink.pid:
                try:
                    self.queries.landed()
                except DuaError:
                    pass
                else:
                    return
            time.sleep(0.5)
        raise DemoError(
            f"the sink did not answer in {self.options.ready_timeout_s:.0f} s; see {sink.log_path}"
        )

    def _factory(self, bootstrap: str, key: str) -> ClientFactory:
        return ClientFactory(
            bootstrap=bootstrap,
            subject_key=key,
            topic_raw=self.settings.topic_raw,
            topic_consent=self.settings.topic_consent,
            spool_root=(self.settings.state_dir / "spool").resolve(),
            kafka_options=client_config(self.settings, principal="producer"),
        )

    def _simulate(self, bootstrap: str, key: str, children: tuple[Child, ...]) -> SimulationResult:
        factory = self._factory(bootstrap, key)
        options = SimulationOptions(
            self.options.rate,
            self.options.duration_s,
            self.options.violation_rate,
            self.options.seed,
            self.run_id,
        )
        lag = self._lag_probe(bootstrap)

        def progress(result: SimulationResult) -> None:
            self._check(*children)
            self.echo(
                f"  sent {result.emitted:>7,} | delivered {result.delivered:>7,} | "
                f"processor lag {lag():>6} | spooled {result.spooled:,}"
            )

        self.echo(
            f"demo: simulating {options.rate:g} accesses/s for {options.duration_s:g} s "
            f"({options.violation_rate:.0%} planted violations), run id {self.run_id}"
        )
        return Simulator(factory, options).run(progress=progress)

    def _lag_probe(self, bootstrap: str) -> Callable[[], str]:
        config = client_config(self.settings, principal="processor")

        def lag() -> str:
            try:
                behind = group_lag(
                    bootstrap, self.settings.processor_app_id, self.settings.topic_raw, config
                )
            except Exception:  # progress display only: never fail the run on it
                return "?"
            return f"{behind:,}"

        return lag

    def _wait_landed(self, emitted: int, bootstrap: str, children: tuple[Child, ...]) -> None:
        self.echo(f"demo: waiting until all {emitted:,} events are queryable in ClickHouse")
        lag = self._lag_probe(bootstrap)
        deadline = time.monotonic() + self.options.land_timeout_s
        while True:
            self._check(*children)
            landed = self.queries.landed().events
            self.echo(f"  landed {landed:>7,} of {emitted:,} | processor lag {lag()}")
            if landed >= emitted:
                return
            if time.monotonic() >= deadline:
                self.echo(f"demo: gave up waiting after {self.options.land_timeout_s:.0f} s")
                return
            time.sleep(1.0)

    def _plant_spike(self, bootstrap: str, key: str) -> PlantedSpike:
        self.echo(
            "demo: planting a bulk export: a week of history at this hour of day, then a burst "
            "of EXPORT accesses"
        )
        return plant_bulk_export(
            self._factory(bootstrap, key), run_id=self.run_id, seed=self.options.seed
        )

    def _records(self, planted: PlantedSpike) -> list[str]:
        try:
            return records_lines(self.settings, planted)
        except DuaError as exc:
            return [f"data map and anomalies: not read ({exc})"]

    def _report(self) -> str | None:
        path = (self.options.report or self.settings.state_dir / "demo-report.html").resolve()
        done = run_dua(["report", "--since", "1d", "--html", str(path)], self.env)
        if done.returncode != 0:
            self.echo(f"demo: the HTML report failed:\n{done.stderr}")
            return None
        return str(path)

    # -- the whole run ---------------------------------------------------------------------
    def run(self) -> DemoSummary:
        started = datetime.now(UTC)
        with ExitStack() as stack:
            key = subject_key(self.settings, self.echo)
            bootstrap = self._broker(stack)
            processor = self._start(stack, "processor")
            sink = self._start(stack, "sink")
            self._wait_for_sink(sink)
            children = (processor, sink)
            result = self._simulate(bootstrap, key, children)
            spike = self._plant_spike(bootstrap, key)
            self._wait_landed(result.emitted + spike.emitted, bootstrap, children)
            landed = self.queries.landed()
            p50, p99 = self.queries.latency_ms()
            return DemoSummary(
                emitted=result.emitted,
                consents=result.consents,
                landed_events=landed.events,
                landed_rows=landed.rows,
                rejected=self.queries.rejected_since(started),
                purpose_by_category=self.queries.purpose_by_category(),
                violations=self.queries.violations(),
                planted=result.planted,
                latency_p50_ms=p50,
                latency_p99_ms=p99,
                send_seconds=result.elapsed_s,
                report_path=self._report(),
                records=self._records(spike),
                bulk_export_emitted=spike.emitted,
                appi_records=self.queries.provisions(),
            )
