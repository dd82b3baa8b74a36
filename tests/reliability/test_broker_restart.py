"""The broker killed with SIGKILL while services emit, then restarted on the same ports and data:
the SDK spools and replays, the processor and sink reconnect, every event lands once."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dua.kafka import LocalBroker, cache_root, free_ports, resolve_jars
from dua.settings import load_settings

from .pipeline_harness import running_pipeline

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

RATE = 150.0
DURATION_S = 10.0
KILL_AT_S = 2.0
DOWN_FOR_S = 2.0


class RestartableBroker:
    """A dedicated `LocalBroker` on fixed ports, so a restart comes back at the same address."""

    def __init__(self, home: Path) -> None:
        settings = load_settings()
        self.jars = resolve_jars(settings.kafka_version, cache_root(os.environ))
        self.heap = settings.kafka_heap
        self.broker = LocalBroker(home)
        self.port, self.controller_port = free_ports(2)
        self.errors: list[BaseException] = []

    def start(self) -> str:
        record = self.broker.start(
            self.jars, port=self.port, controller_port=self.controller_port, heap=self.heap
        )
        return record.bootstrap

    def kill(self) -> None:
        record = self.broker.status()
        assert record is not None, "the broker is not running"
        os.killpg(record.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while self.broker.status() is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        self.broker.stop()  # only forgets the record: the process is gone

    def kill_then_restart(self, after_s: float, down_s: float) -> None:
        """In a thread, while the test's traffic runs."""
        try:
            time.sleep(after_s)
            self.kill()
            time.sleep(down_s)
            self.start()
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.errors.append(exc)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RestartableBroker]:
    """A broker of this test's own, stopped (killed if need be) afterwards."""
    restartable = RestartableBroker(tmp_path / "kafka")
    restartable.start()
    try:
        yield restartable
    finally:
        restartable.broker.stop(timeout=10)


def test_broker_kill_9_and_restart_while_emitting(
    broker: RestartableBroker, tmp_path: Path
) -> None:
    """Kill -9 of the broker mid-traffic, restart 2 s later: landed == emitted, no duplicate,
    and the processor and sink are still the same processes (they reconnected by themselves)."""
    run_id = uuid.uuid4().hex[:12]
    bootstrap = f"127.0.0.1:{broker.port}"
    with running_pipeline(bootstrap, tmp_path / "pipeline") as pipeline:
        pids = {name: child.pid for name, child in pipeline.children.items()}
        fault = threading.Thread(
            target=broker.kill_then_restart, args=(KILL_AT_S, DOWN_FOR_S), daemon=True
        )
        started = time.monotonic()
        fault.start()
        result = pipeline.simulate(run_id, RATE, DURATION_S)
        fault.join(180)
        assert not broker.errors, broker.errors
        # The services stay up after their traffic, as real ones do: their replay threads
        # send what was spooled while the broker was away.
        factory = pipeline.client_factory()
        services = [factory(spool.name) for spool in factory.spool_root.iterdir()]
        try:
            landed = pipeline.wait_landed(run_id, result.emitted)
        finally:
            for client in services:
                client.close()
        elapsed = time.monotonic() - started
        same = {name: child.pid for name, child in pipeline.children.items()} == pids
        print(
            f"reliability broker-kill9: emitted {result.emitted} landed {landed.events} "
            f"duplicates {landed.rows - landed.events} spooled {result.spooled} "
            f"same processes {same} in {elapsed:.1f} s"
        )
    assert landed.events == result.emitted
    assert landed.rows == landed.events
    assert same
