"""`dua run sink` with ClickHouse failing for a while at the client boundary, as a process of
its own (the pipeline's embedded ClickHouse belongs to one process): `python outage_sink.py
ARM_AFTER_S FAILURES REPORT_PATH`: ARM_AFTER_S seconds after the sink is ready, its next
FAILURES inserts raise. On SIGTERM it writes how many inserts failed to REPORT_PATH."""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path

from dua.commands.sink_run import sink_config, stop_on_signals
from dua.settings import load_settings
from dua_sink import SinkRecord, run_sink
from dua_sink.connection import ClickHouseClient
from dua_sink.testing import FailingClient


def main(arm_after_s: float, failures: int, report: Path) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    wrapped: list[FailingClient] = []
    armed = threading.Event()

    def wrap(client: ClickHouseClient) -> ClickHouseClient:
        # Healthy while the schema is migrated; the outage is armed once traffic flows.
        wrapped.append(FailingClient(client, failures=0))
        return wrapped[0]

    def arm() -> None:
        wrapped[0].failures_left = failures
        armed.set()

    def on_ready(_record: SinkRecord) -> None:
        timer = threading.Timer(arm_after_s, arm)
        timer.daemon = True
        timer.start()

    stop = threading.Event()
    try:
        with stop_on_signals(stop):
            run_sink(sink_config(load_settings()), stop, wrap_client=wrap, on_ready=on_ready)
    finally:
        if wrapped:
            failed = failures - wrapped[0].failures_left if armed.is_set() else 0
            report.write_text(json.dumps({"inserts": wrapped[0].inserts, "failed": failed}))


if __name__ == "__main__":
    main(float(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
