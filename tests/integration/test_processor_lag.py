"""`dua_processor_consumer_lag` against the real broker: 0 once everything is processed,
also after a restart with nothing new to read, and after a transaction's commit marker.

The lag feeds `DuaPipelineStalled` (lag above 0 while nothing is classified, for 5 minutes:
critical). A lag that stays above 0 on an idle, caught-up partition pages on-call for nothing.
"""

from __future__ import annotations

import time

import pytest

from dua.settings import Settings

from .processor_harness import (
    DEADLINE_S,
    ProcessorProcess,
    TopicReader,
    access_event,
    produce_events,
    produce_in_transaction,
)

pytestmark = pytest.mark.integration

LAG_EVERY_S = 5.0  # dua_stream.processor.worker.LAG_EVERY_S (importing it loads Faust)

PARTITIONS = 2


def _lags(worker: ProcessorProcess, topic: str) -> dict[int, float | None]:
    return {
        p: worker.metric("dua_processor_consumer_lag", topic=topic, partition=str(p))
        for p in range(PARTITIONS)
    }


def _wait_lags_zero(worker: ProcessorProcess, topic: str) -> None:
    """Every partition of `topic` reports a lag of 0, and still does a report later.

    The lag is reported every 5 s: the first wait lets a report made before the last
    records were processed go by, the last one checks that 0 is what a fresh report says."""
    time.sleep(LAG_EVERY_S + 1)
    deadline = time.monotonic() + DEADLINE_S
    lags = _lags(worker, topic)
    while time.monotonic() < deadline:
        assert worker.process is not None
        assert worker.process.poll() is None, worker.log_text()
        lags = _lags(worker, topic)
        if all(lag == 0 for lag in lags.values()):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"lag of {topic} stays {lags}:\n{worker.log_text()}")
    time.sleep(LAG_EVERY_S + 1)
    assert _lags(worker, topic) == dict.fromkeys(range(PARTITIONS), 0.0)


def _read(bootstrap: str, topic: str, count: int) -> None:
    reader = TopicReader(bootstrap, topic)
    try:
        assert len(reader.read(count)) >= count
    finally:
        reader.close()


def test_lag_is_zero_when_caught_up_after_a_restart_and_after_a_commit_marker(
    unstarted_processor: tuple[Settings, ProcessorProcess],
) -> None:
    settings, worker = unstarted_processor
    assert settings.topic_partitions == PARTITIONS
    bootstrap = str(settings.kafka_bootstrap)
    raw = settings.topic_raw
    events = [access_event(subject_id=f"{i:064x}") for i in range(40)]
    produce_events(bootstrap, raw, events)
    worker.start()
    _read(bootstrap, settings.topic_tagged, len(events))
    _wait_lags_zero(worker, raw)

    # a restart with nothing new to read: its committed offsets are the end of the topic
    assert worker.stop() == 0
    worker.restart()
    worker.wait_metric("dua_processor_consumer_lag", 0, topic=raw, partition="0")
    _wait_lags_zero(worker, raw)

    # the last record of a partition is a transaction's commit marker, which nobody reads
    more = [access_event(subject_id=f"{i:064x}") for i in range(40, 50)]
    produce_in_transaction(bootstrap, raw, more)
    _read(bootstrap, settings.topic_tagged, len(events) + len(more))
    _wait_lags_zero(worker, raw)
