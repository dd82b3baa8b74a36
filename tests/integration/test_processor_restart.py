"""At-least-once across `kill -9`: every raw event ends up tagged, and table state survives."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from dua.settings import Settings

from .processor_harness import (
    CODEC,
    ProcessorProcess,
    TopicReader,
    access_event,
    ad_event,
    consent_change,
    produce,
    produce_events,
)

pytestmark = pytest.mark.integration

BEFORE = 20_000
WHILE_DOWN = 5_000


def test_kill_9_and_restart_loses_no_event_and_keeps_consent(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    """Killed mid-stream, restarted: distinct tagged event ids equal the raw inputs."""
    settings = settings_factory(partitions=4)
    bootstrap = str(settings.kafka_bootstrap)
    opted_out = "c" * 64
    change = consent_change(opted_out, targeting_opt_out=True)
    produce(
        bootstrap,
        settings.topic_consent,
        [(opted_out.encode(), CODEC.encode("ConsentChange", change))],
    )
    first = [access_event() for _ in range(BEFORE)]
    produce_events(bootstrap, settings.topic_raw, first)
    worker = ProcessorProcess(settings, tmp_path).start()
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    try:
        worker.wait_metric("dua_processor_consent_changes_total", 1)
        tagged.read(1)
        worker.kill9()  # mid-stream: outputs produced, offsets not all committed
        seen_at_kill = {r["event_id"] for r in tagged.records}
        assert len(seen_at_kill) > 0, worker.log_text()

        later = [access_event() for _ in range(WHILE_DOWN)]
        produce_events(bootstrap, settings.topic_raw, later)
        ad = ad_event(opted_out)
        produce_events(bootstrap, settings.topic_raw, [ad])
        worker.restart()

        expected = {e["event_id"] for e in (*first, *later, ad)}
        deadline_reads = 0
        while {r["event_id"] for r in tagged.records} < expected and deadline_reads < 20:
            tagged.poll(3.0)
            deadline_reads += 1
        ids = {r["event_id"] for r in tagged.records}
        assert ids == expected, f"{len(expected - ids)} events missing\n{worker.log_text()}"
        flagged = [r for r in tagged.records if r["event_id"] == ad["event_id"]]
        # the consent table came back from its changelog: the opt-out still applies
        assert all([v["rule"] for v in r["violations"]] == ["targeting_opted_out"] for r in flagged)
    finally:
        tagged.close()
        worker.stop()


def _committed(bootstrap: str, group: str, topic: str, partitions: int) -> list[int]:
    """The group's committed offset of each partition of `topic` (-1001: none yet)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        found = consumer.committed(
            [TopicPartition(topic, p) for p in range(partitions)], timeout=10
        )
        return [tp.offset for tp in found]
    finally:
        consumer.close()


def test_processed_offsets_are_committed_and_a_graceful_restart_replays_nothing(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    """Acknowledged batches move the group's committed offsets to the end of the raw topic;
    after SIGTERM and a restart none of the events processed before is tagged again.

    (An event that arrives while the restarted worker is still recovering its tables may be
    tagged twice: at-least-once allows it, and the sink removes it by event_id.)"""
    settings = settings_factory(partitions=4)
    bootstrap = str(settings.kafka_bootstrap)
    events = [access_event() for _ in range(4_000)]
    produce_events(bootstrap, settings.topic_raw, events)
    ends = _ends(bootstrap, settings.topic_raw, 4)
    assert sum(ends) == len(events)
    worker = ProcessorProcess(settings, tmp_path).start()
    group = worker.env["DUA_PROCESSOR_APP_ID"]
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    try:
        tagged.read(len(events))
        deadline = time.monotonic() + 30
        while _committed(bootstrap, group, settings.topic_raw, 4) != ends:
            assert time.monotonic() < deadline, (
                f"committed {_committed(bootstrap, group, settings.topic_raw, 4)}, "
                f"end offsets {ends}\n{worker.log_text()}"
            )
            time.sleep(0.5)
        assert worker.stop() == 0
        assert _committed(bootstrap, group, settings.topic_raw, 4) == ends
        worker.restart()
        worker.wait_metric("dua_processor_batch_size_count", 0)  # up and serving metrics
        produce_events(bootstrap, settings.topic_raw, [access_event()])
        tagged.read(len(events) + 1)
        tagged.poll(3.0)
        counts = Counter(r["event_id"] for r in tagged.records)
        replayed = {e["event_id"] for e in events if counts[e["event_id"]] > 1}
        assert replayed == set(), worker.log_text()
    finally:
        tagged.close()
        worker.stop()


def _ends(bootstrap: str, topic: str, partitions: int) -> list[int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-ends"})
    try:
        return [
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(partitions)
        ]
    finally:
        consumer.close()
