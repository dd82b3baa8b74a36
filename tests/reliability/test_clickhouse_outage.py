"""ClickHouse failing for a while under a running pipeline (the fault at the sink's client
boundary, `dua_sink.testing.FailingClient`, in a sink process of its own): inserts are retried,
nothing is lost or duplicated, and the sink catches up by itself."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from .pipeline_harness import running_pipeline

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

SCRIPT = Path(__file__).with_name("outage_sink.py")
ARM_AFTER_S = 3.0  # after the sink is ready: traffic is flowing and has landed something
FAILURES = 6  # then this many consecutive inserts raise, as a refused connection does


def test_clickhouse_outage_mid_stream_loses_and_duplicates_nothing(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Six failed inserts in a row mid-traffic: landed == emitted, rows == distinct events,
    and the failures really happened (counted by the wrapped client)."""
    run_id = uuid.uuid4().hex[:12]
    report = tmp_path / "outage.json"
    args = (SCRIPT, ARM_AFTER_S, FAILURES, report)
    with running_pipeline(kafka_bootstrap, tmp_path, sink_script=args) as pipeline:  # type: ignore[arg-type]
        started = time.monotonic()
        result = pipeline.simulate(run_id, 200.0, 6.0)
        landed = pipeline.wait_landed(run_id, result.emitted)
        elapsed = time.monotonic() - started
    outcome = json.loads(report.read_text())
    print(
        f"reliability clickhouse-outage: emitted {result.emitted} landed {landed.events} "
        f"duplicates {landed.rows - landed.events} failed inserts {outcome['failed']} "
        f"of {outcome['inserts']} in {elapsed:.1f} s"
    )
    assert outcome["failed"] == FAILURES
    assert landed.events == result.emitted
    assert landed.rows == landed.events
