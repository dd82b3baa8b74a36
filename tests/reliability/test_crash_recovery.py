"""A processor or sink killed with SIGKILL mid-stream, then restarted: everything emitted lands
exactly once in the queries, and the pipeline resumes without help."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from .pipeline_harness import running_pipeline

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

RATE = 200.0
LEG_S = 4.0


@pytest.mark.parametrize("victim", ["processor", "sink"])
def test_kill_9_then_restart_loses_and_duplicates_nothing(
    victim: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Traffic, SIGKILL of one service while it still has work, more traffic, restart: landed
    distinct events == emitted and rows == distinct events (no duplicate visible)."""
    run_id = uuid.uuid4().hex[:12]
    with running_pipeline(kafka_bootstrap, tmp_path) as pipeline:
        before = pipeline.simulate(run_id, RATE, LEG_S)
        pipeline.kill(victim)  # the service is mid-stream: the leg has only just been sent
        during = pipeline.simulate(run_id, RATE, LEG_S)
        started = time.monotonic()
        pipeline.start(victim)
        if victim == "sink":
            pipeline.wait_ready()
        emitted = before.emitted + during.emitted
        landed = pipeline.wait_landed(run_id, emitted)
        resumed_s = time.monotonic() - started
        print(
            f"reliability {victim}-kill9: emitted {emitted} landed {landed.events} "
            f"duplicates {landed.rows - landed.events} resumed in {resumed_s:.1f} s"
        )
    # the SDK delivered every access and every consent change it was given (none spooled)
    consents = before.consents + during.consents
    assert emitted + consents == before.delivered + during.delivered
    assert landed.events == emitted
    assert landed.rows == landed.events
