"""Simulated traffic with the consent races planted (same millisecond, a spooled opt-out, an
opt-in after an opt-out) while the processor is killed twice, the sink once and the broker
once: every event lands once, and every rule's violations found == planted."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .pipeline_harness import Pipeline, running_pipeline
from .test_broker_restart import RestartableBroker

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

RATE = 1_000.0
DURATION_S = 60.0
BROKER_DOWN_S = 2.0
SETTLE_S = 90.0


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RestartableBroker]:
    """A broker of this test's own, stopped (killed if need be) afterwards."""
    restartable = RestartableBroker(tmp_path / "kafka")
    restartable.start()
    try:
        yield restartable
    finally:
        restartable.broker.stop(timeout=10)


Fault = tuple[float, Callable[[], None]]  # (seconds after the start, what to do)


def _faults(pipeline: Pipeline, broker: RestartableBroker) -> list[Fault]:
    def bounce(name: str) -> Callable[[], None]:
        def run() -> None:
            pipeline.kill(name)
            time.sleep(1.0)
            pipeline.start(name)

        return run

    def broker_bounce() -> None:
        broker.kill()
        time.sleep(BROKER_DOWN_S)
        broker.start()

    return [
        (10.0, bounce("processor")),
        (22.0, bounce("sink")),
        (32.0, broker_bounce),
        (45.0, bounce("processor")),
    ]


def _inject(faults: list[Fault], started: float, errors: list[BaseException]) -> None:
    try:
        for at, fault in faults:
            time.sleep(max(0.0, started + at - time.monotonic()))
            fault()
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)


def test_consent_races_survive_kills_of_every_service(
    broker: RestartableBroker, tmp_path: Path
) -> None:
    """1,000 events/s for 60 s, processor killed twice, sink once, broker once: landed ==
    emitted, no visible duplicate, and for every rule (the opt-out races included) the
    violations found equal the planted ones."""
    run_id = uuid.uuid4().hex[:12]
    bootstrap = f"127.0.0.1:{broker.port}"
    errors: list[BaseException] = []
    with running_pipeline(bootstrap, tmp_path / "pipeline") as pipeline:
        started = time.monotonic()
        fault = threading.Thread(
            target=_inject, args=(_faults(pipeline, broker), started, errors), daemon=True
        )
        fault.start()
        result = pipeline.simulate(run_id, RATE, DURATION_S)  # violation rate 0.1
        fault.join(180)
        assert not errors, errors
        pipeline.wait_ready()
        # the services stay up after their traffic: their replay threads send the spool
        factory = pipeline.client_factory()
        services = [factory(spool.name) for spool in factory.spool_root.iterdir()]
        try:
            landed = pipeline.wait_landed(run_id, result.emitted)
            queries = pipeline.queries(run_id)
            deadline = time.monotonic() + SETTLE_S
            found: Counter[str] = Counter()
            while time.monotonic() < deadline:
                found = Counter()
                for rule, _, count in queries.violations():
                    found[rule] += count
                if all(found[rule] >= n for rule, n in result.planted.items()):
                    break
                time.sleep(2.0)
        finally:
            for client in services:
                client.close()
        print(
            f"reliability consent-races: emitted {result.emitted} landed {landed.events} "
            f"duplicates {landed.rows - landed.events} planted {dict(result.planted)} "
            f"found {dict(found)}"
        )
    assert result.emitted >= RATE * DURATION_S
    assert landed.events == result.emitted
    assert landed.rows == landed.events
    assert result.planted["targeting_opted_out"] > 0
    assert {rule: found[rule] for rule in result.planted} == dict(result.planted)
