"""Raw events written in Kafka transactions: the processor reads only committed ones, and
commits its offsets past the transaction markers and aborted records.

Our SDK does not write in transactions, but any producer with write access may (a replay
job, a Kafka Streams service). An aborted transaction's access events were retracted by
their producer: auditing them would report accesses, and violations, that did not happen.
The markers and the aborted records also leave gaps between the offsets the worker sees; if
commits stopped at a gap, every restart would process the partition again from there.
"""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, TopicPartition

from dua.settings import Settings

from .processor_harness import (
    ProcessorProcess,
    TopicReader,
    access_event,
    produce_events,
    produce_in_transaction,
)

pytestmark = pytest.mark.integration

PARTITIONS = 2


def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        found = consumer.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], 10)
        return {tp.partition: tp.offset for tp in found}
    finally:
        consumer.close()


def _ends(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-ends"})
    try:
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), 10)[1]
            for p in range(PARTITIONS)
        }
    finally:
        consumer.close()


def test_only_committed_events_are_audited_and_offsets_pass_the_gaps(
    unstarted_processor: tuple[Settings, ProcessorProcess],
) -> None:
    settings, worker = unstarted_processor
    assert settings.topic_partitions == PARTITIONS
    bootstrap = str(settings.kafka_bootstrap)
    raw = settings.topic_raw
    committed = [access_event(subject_id=f"{i:064x}") for i in range(20)]
    aborted = [access_event(subject_id=f"{i:064x}") for i in range(20, 35)]
    plain = [access_event(subject_id=f"{i:064x}") for i in range(35, 45)]
    produce_in_transaction(bootstrap, raw, committed[:10])
    produce_in_transaction(bootstrap, raw, aborted, commit=False)
    produce_in_transaction(bootstrap, raw, committed[10:])
    produce_events(bootstrap, raw, plain)
    ends = _ends(bootstrap, raw)
    # the markers and the aborted records take offsets too
    assert sum(ends.values()) > len(committed) + len(plain)
    worker.start()
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    try:
        tagged.read(len(committed) + len(plain))
        tagged.poll(3.0)  # and nothing more
        ids = [r["event_id"] for r in tagged.records]
    finally:
        tagged.close()
    assert sorted(ids) == sorted(e["event_id"] for e in committed + plain), worker.log_text()
    group = worker.env["DUA_PROCESSOR_APP_ID"]
    deadline = time.monotonic() + 30
    while _committed(bootstrap, group, raw) != ends and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _committed(bootstrap, group, raw) == ends
