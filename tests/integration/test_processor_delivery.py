"""`Deliverer` against the real broker: a message the broker refuses is produced again until
it is taken, a changelog record with the value its key has *now*.

The broker refuses for real: the changelog topic is created with a `max.message.bytes`
smaller than the first value (MSG_SIZE_TOO_LARGE, a delivery report with an error, as a
broker that stays away past `message.timeout.ms` gives).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from dua_stream.processor.deliver import Deliverer
from dua_stream.processor.route import Output

pytestmark = pytest.mark.integration

LIMIT = 1_000  # the changelog topic's max.message.bytes


def _limited_topic(bootstrap: str) -> str:
    name = f"test.changelog-limited.{uuid.uuid4().hex[:10]}"
    topic = NewTopic(name, num_partitions=1, config={"max.message.bytes": str(LIMIT)})
    admin = AdminClient({"bootstrap.servers": bootstrap})  # alive until the result is in
    admin.create_topics([topic])[name].result(30)
    return name


def _records(bootstrap: str, topic: str) -> list[tuple[int, bytes | None, bytes | None]]:
    """(offset, key, value) of every record of partition 0 of `topic`."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{uuid.uuid4().hex}"})
    try:
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), 10)
        consumer.assign([TopicPartition(topic, 0, 0)])
        found: list[tuple[int, bytes | None, bytes | None]] = []
        while len(found) < high:
            message = consumer.poll(10)
            assert message is not None, f"{topic} has {high} records, read {len(found)}"
            assert message.error() is None, message.error()
            found.append((message.offset(), message.key(), message.value()))
        return found
    finally:
        consumer.close()


async def test_a_refused_changelog_record_is_produced_again_with_its_current_value(
    kafka_bootstrap: str, topic_factory: Callable[..., list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    changelog = _limited_topic(kafka_bootstrap)
    (tagged,) = topic_factory("tagged", partitions=1)
    key = b'"reid:subject"'
    now = {key: b'{"v":"newer"}'}  # what the table holds by the time the retry is made
    refreshed: list[Output] = []

    def refresh(output: Output) -> Output:
        refreshed.append(output)
        return output._replace(value=now[output.key or b""])

    deliverer = Deliverer(
        {"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True},
        tracked=[changelog],
        refresh=refresh,
    )
    loop = asyncio.get_running_loop()
    serving = loop.create_task(deliverer.serve())
    too_large = os.urandom(4 * LIMIT)  # random: no compression brings it under the limit
    outputs = [
        Output(tagged, b"subject", b"tagged event"),
        Output(changelog, key, too_large, None, 0),
    ]
    try:
        delivery = deliverer.produce(outputs, loop)
        failed = await asyncio.wait_for(asyncio.shield(delivery.future), 30)
        assert [(o.topic, o.value) for o in failed] == [(changelog, too_large)]
        assert delivery.offsets == {}  # nothing of the tracked topic confirmed yet
        await asyncio.wait_for(deliverer.wait(delivery, loop), 30)
    finally:
        deliverer.close(10)
        serving.cancel()
    assert [o.value for o in refreshed] == [too_large]  # only the tracked record, once
    # on-call reads why: the topic and the broker's error
    (retry,) = [r.getMessage() for r in caplog.records if "not delivered" in r.getMessage()]
    assert f"1 outputs were not delivered ({changelog}: MSG_SIZE_TOO_LARGE" in retry
    assert _records(kafka_bootstrap, changelog) == [(0, key, now[key])]
    # the retry's confirmed offset counts for the batch (a recovery may start after it)
    assert delivery.offsets == {(changelog, 0): 0}
    assert [value for _, _, value in _records(kafka_bootstrap, tagged)] == [b"tagged event"]


async def test_a_full_producer_queue_delays_a_batch_and_loses_nothing(
    kafka_bootstrap: str, topic_factory: Callable[..., list[str]]
) -> None:
    """A batch larger than the producer's local queue: `produce` waits for room (BufferError)
    instead of dropping or reordering; every output arrives once, in order."""
    (tagged,) = topic_factory("tagged", partitions=1)
    deliverer = Deliverer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "enable.idempotence": True,
            "queue.buffering.max.messages": 8,
        }
    )
    loop = asyncio.get_running_loop()
    serving = loop.create_task(deliverer.serve())
    values = [b"output %d" % i for i in range(200)]
    try:
        delivery = deliverer.produce([Output(tagged, b"k", v, None, 0) for v in values], loop)
        await asyncio.wait_for(deliverer.wait(delivery, loop), 60)
    finally:
        deliverer.close(10)
        serving.cancel()
    assert [value for _, _, value in _records(kafka_bootstrap, tagged)] == values
