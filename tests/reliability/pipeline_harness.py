"""A whole pipeline (processor + sink as child processes) on fresh topics, with the faults the
reliability scenarios inject: SIGKILL of a child, then a restart on the same state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

from dua.demo.children import Child
from dua.demo.landing import Landed, RunQueries
from dua.kafka import ensure_topics, free_ports
from dua.read_path import open_reader
from dua.settings import Settings, load_settings
from dua.simulation import ClientFactory, SimulationOptions, SimulationResult, Simulator
from dua_schemas import DuaError, Topics

ROLES = tuple(field.name for field in fields(Topics))
READY_TIMEOUT_S = 90.0
LAND_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What one scenario emitted and what the queries saw afterwards."""

    emitted: int
    landed: int
    duplicates: int


class ScriptChild(Child):
    """A `Child` that runs a script instead of `python -m dua`."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, *args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


class Pipeline:
    """Processor and sink on their own topics, groups and state dir; every child is killed on
    the way out, even when the test fails."""

    def __init__(
        self, bootstrap: str, home: Path, extra_settings: Mapping[str, str] | None = None
    ) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.suffix = suffix  # in every topic, group and app id of this pipeline
        self.key = "reliability-" + uuid.uuid4().hex
        overrides: dict[str, str] = {
            "kafka_bootstrap": bootstrap,
            "state_dir": str(home / "state"),
            "processor_app_id": f"rel-processor-{suffix}",
            "sink_group": f"rel-sink-{suffix}",
            "subject_key": self.key,
            **{f"topic_{role}": f"rel.{role}.{suffix}" for role in ROLES},
            **(extra_settings or {}),
        }
        self.settings: Settings = load_settings(**overrides)
        ensure_topics(bootstrap, self.settings.topics.names(), partitions=2)
        processor_port, sink_port = free_ports(2)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DUA_")},
            **{f"DUA_{name.upper()}": value for name, value in overrides.items()},
            "DUA_PROCESSOR_METRICS_PORT": str(processor_port),
            "DUA_SINK_METRICS_PORT": str(sink_port),
        }
        self.bootstrap = bootstrap
        self.log_dir = home / "logs"
        self.children: dict[str, Child | ScriptChild] = {}

    # -- children ---------------------------------------------------------------------------
    def start(self, name: str) -> Child:
        child = Child(name, ["run", name], self.env, self.log_dir)
        self.children[name] = child
        return child

    def start_script(self, name: str, script: Path, *args: str) -> ScriptChild:
        """A Python script of this package in place of a `dua` service (same env, same log dir)."""
        child = ScriptChild(name, [str(script), *args], self.env, self.log_dir)
        self.children[name] = child
        return child

    def kill(self, name: str) -> None:
        """SIGKILL the whole process group of a child: no flush, no commit, no goodbye."""
        child = self.children.pop(name)
        with suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.stop()

    def stop_all(self) -> None:
        for name in list(self.children):
            child = self.children.pop(name)
            child.stop()

    def check_alive(self) -> None:
        for child in self.children.values():
            if not child.alive():
                raise AssertionError(
                    f"the {child.name} exited early; end of its log:\n{child.log_tail(30)}"
                )

    # -- traffic and queries -----------------------------------------------------------------
    def queries(self, run_id: str) -> RunQueries:
        return RunQueries(self.settings, run_id)

    def query(self, name: str, **parameters: Any) -> list[tuple[Any, ...]]:
        """Rows of `sql/<name>.sql` through the sink's reader."""
        sql = (resources.files(__package__) / "sql" / f"{name}.sql").read_text()
        reader = open_reader(self.settings)
        try:
            return reader.query(sql, parameters).rows
        finally:
            reader.close()

    def _sink_record_pid(self) -> int | None:
        try:
            record = json.loads((self.settings.state_dir / "sink.json").read_text())
        except (OSError, ValueError):
            return None
        return int(record["pid"])

    def wait_ready(self) -> None:
        """Until the sink has written its endpoint record and answers a query."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        probe = self.queries("ready-probe")
        while time.monotonic() < deadline:
            self.check_alive()
            # Only the record of *this* sink: after a SIGKILL the dead one's is still there, and
            # `open_reader` would then open the chDB directory in this process.
            if self._sink_record_pid() == self.children["sink"].pid:
                try:
                    probe.landed()
                except DuaError:
                    pass
                else:
                    return
            time.sleep(0.5)
        raise AssertionError(f"the sink did not answer within {READY_TIMEOUT_S:.0f} s")

    def client_factory(self) -> ClientFactory:
        return ClientFactory(
            bootstrap=self.bootstrap,
            subject_key=self.key,
            topic_raw=self.settings.topic_raw,
            topic_consent=self.settings.topic_consent,
            spool_root=self.settings.state_dir / "spool",
            schema_registry_url=self.settings.schema_registry_url,
        )

    def simulate(self, run_id: str, rate: float, duration_s: float) -> SimulationResult:
        options = SimulationOptions(rate, duration_s, 0.1, 7, run_id)
        return Simulator(self.client_factory(), options).run()

    def wait_landed(self, run_id: str, expected: int) -> Landed:
        """Until `expected` distinct events of the run are queryable (or the timeout)."""
        queries = self.queries(run_id)
        deadline = time.monotonic() + LAND_TIMEOUT_S
        while True:
            self.check_alive()
            landed = queries.landed()
            if landed.events >= expected or time.monotonic() >= deadline:
                return landed
            time.sleep(1.0)


@contextmanager
def running_pipeline(
    bootstrap: str,
    home: Path,
    *,
    sink_script: tuple[Path, ...] = (),
    extra_settings: Mapping[str, str] | None = None,
) -> Iterator[Pipeline]:
    """A started, ready pipeline, torn down (every child killed if need be) on exit;
    `sink_script` (script, arguments...) replaces `dua run sink`; `extra_settings` (settings
    field -> value) reach the test's settings and every child's environment."""
    pipeline = Pipeline(bootstrap, home, extra_settings)
    try:
        pipeline.start("processor")
        if sink_script:
            script, *args = sink_script
            pipeline.start_script("sink", script, *(str(a) for a in args))
        else:
            pipeline.start("sink")
        pipeline.wait_ready()
        yield pipeline
    finally:
        pipeline.stop_all()
