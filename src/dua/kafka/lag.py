"""How far a consumer group is behind on a topic: the sum over partitions of high watermark
minus committed offset."""

from __future__ import annotations

from collections.abc import Mapping

from confluent_kafka import Consumer, TopicPartition

from dua.kafka.topics import topic_partitions

TIMEOUT_S = 10.0


def group_lag(
    bootstrap: str, group: str, topic: str, config: Mapping[str, str] | None = None
) -> int:
    """Messages of `topic` the group has not committed yet (all of them before a first commit)."""
    count = topic_partitions(bootstrap, config=config).get(topic, 0)
    consumer = Consumer(
        {
            **(config or {}),
            "bootstrap.servers": bootstrap,
            "group.id": group,  # only reads the group's offsets: never subscribes nor joins
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = [TopicPartition(topic, p) for p in range(count)]
        committed = consumer.committed(partitions, timeout=TIMEOUT_S)
        lag = 0
        for tp in committed:
            low, high = consumer.get_watermark_offsets(tp, timeout=TIMEOUT_S)
            lag += high - (tp.offset if tp.offset >= 0 else low)
        return lag
    finally:
        consumer.close()
