"""`Delivery`: a batch is done only when every message is reported, with the failed ones."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import KafkaError

from dua_stream.processor.deliver import Deliverer, Delivery, ProducerFailed
from dua_stream.processor.route import Output


class _Message:
    """What a confluent-kafka delivery report hands over (its accessor methods)."""

    def __init__(self, topic: str, key: bytes, value: bytes, partition: int) -> None:
        self._fields = (topic, key, value, partition)

    def topic(self) -> str:
        return self._fields[0]

    def key(self) -> bytes:
        return self._fields[1]

    def value(self) -> bytes:
        return self._fields[2]

    def partition(self) -> int:
        return self._fields[3]

    def headers(self) -> Any:
        return [("h", b"1")]


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def _settled(loop: asyncio.AbstractEventLoop, delivery: Delivery) -> bool:
    async def spin() -> bool:
        for _ in range(3):  # the future is resolved by a callback scheduled on the loop
            await asyncio.sleep(0)
        return delivery.future.done()

    return loop.run_until_complete(spin())


def test_resolves_only_after_every_report_and_the_seal(loop: asyncio.AbstractEventLoop) -> None:
    delivery = Delivery(loop, 3)
    for i in range(3):
        delivery.on_delivery(None, _Message("t", b"k", b"v%d" % i, 0))
        assert not _settled(loop, delivery)
    assert delivery.pending == 1
    delivery.sealed()
    assert _settled(loop, delivery)
    assert delivery.future.result() == []


def test_reports_may_come_before_the_seal_or_after_it(loop: asyncio.AbstractEventLoop) -> None:
    delivery = Delivery(loop, 2)
    delivery.on_delivery(None, _Message("t", b"k", b"v", 0))
    delivery.sealed()
    assert not _settled(loop, delivery)
    delivery.on_delivery(None, _Message("t", b"k", b"w", 1))
    assert _settled(loop, delivery)


def test_failed_messages_come_back_as_outputs_to_produce_again(
    loop: asyncio.AbstractEventLoop,
) -> None:
    delivery = Delivery(loop, 3)
    delivery.sealed()
    delivery.on_delivery(None, _Message("tagged", b"a", b"1", 0))
    delivery.on_delivery(KafkaError(KafkaError._MSG_TIMED_OUT), _Message("tagged", b"b", b"2", 3))
    delivery.on_delivery(KafkaError(KafkaError._MSG_TIMED_OUT), _Message("dlq", b"c", b"3", -1))
    assert _settled(loop, delivery)
    assert delivery.future.result() == [
        Output("tagged", b"b", b"2", [("h", b"1")], 3),
        # no partition assigned yet (-1): the partitioner chooses again
        Output("dlq", b"c", b"3", [("h", b"1")], None),
    ]


def test_an_empty_batch_is_done_once_sealed(loop: asyncio.AbstractEventLoop) -> None:
    delivery = Delivery(loop, 0)
    assert not _settled(loop, delivery)
    delivery.sealed()
    assert _settled(loop, delivery)


class _Placed(_Message):
    def __init__(self, topic: str, partition: int, offset: int) -> None:
        super().__init__(topic, b"k", b"v", partition)
        self._offset = offset

    def offset(self) -> int:
        return self._offset


def test_tracked_messages_leave_their_newest_confirmed_offset_per_partition(
    loop: asyncio.AbstractEventLoop,
) -> None:
    delivery = Delivery(loop, 4)
    delivery.on_tracked_delivery(None, _Placed("changelog", 0, 11))
    delivery.on_tracked_delivery(None, _Placed("changelog", 0, 10))  # reports in any order
    delivery.on_tracked_delivery(None, _Placed("changelog", 2, 5))
    # a failed message has no offset to trust: it is produced again, elsewhere in the log
    delivery.on_tracked_delivery(KafkaError(KafkaError._MSG_TIMED_OUT), _Placed("changelog", 3, -1))
    delivery.sealed()
    assert _settled(loop, delivery)
    assert delivery.offsets == {("changelog", 0): 11, ("changelog", 2): 5}
    assert [o.partition for o in delivery.future.result()] == [3]


def test_failures_are_counted_by_topic_and_error(loop: asyncio.AbstractEventLoop) -> None:
    delivery = Delivery(loop, 3)
    too_large = KafkaError(KafkaError.MSG_SIZE_TOO_LARGE)
    for topic in ("tagged", "tagged", "dlq"):
        delivery.on_delivery(too_large, _Message(topic, b"k", b"v", 0))
    assert delivery.reasons == {
        ("tagged", "MSG_SIZE_TOO_LARGE", too_large.str()): 2,
        ("dlq", "MSG_SIZE_TOO_LARGE", too_large.str()): 1,
    }
    assert delivery.fatal is None


def test_a_fatal_producer_error_stops_the_retries(loop: asyncio.AbstractEventLoop) -> None:
    """librdkafka's fatal errors leave the producer unusable: `wait` raises instead of
    producing again with it forever (the handler then stops the worker)."""
    fatal = KafkaError(KafkaError._FENCED, "fenced", fatal=True)
    delivery = Delivery(loop, 2)
    delivery.on_delivery(None, _Message("tagged", b"a", b"1", 0))
    delivery.on_delivery(fatal, _Message("tagged", b"b", b"2", 0))
    delivery.sealed()
    assert delivery.fatal is fatal
    # nothing listens there: the producer is made, but never reaches a broker in this test
    deliverer = Deliverer({"bootstrap.servers": "127.0.0.1:9", "socket.timeout.ms": 1000})
    try:
        with pytest.raises(ProducerFailed, match="_FENCED") as raised:
            loop.run_until_complete(deliverer.wait(delivery, loop))
        assert raised.value.error is fatal
    finally:
        deliverer.close(0)
