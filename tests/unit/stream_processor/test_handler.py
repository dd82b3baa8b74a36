"""`ProcessorHandler`: inputs are acknowledged only once their batch's outputs are confirmed,
the window of batches in flight is bounded, and a batch that cannot be confirmed stops the
worker instead of being acknowledged. The broker's side is a double here (the real one is
in tests/integration/test_processor_*.py): what is tested is the handler's own ordering."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from dua_stream.processor.batch import BatchResult
from dua_stream.processor.handler import ProcessorHandler
from dua_stream.processor.metrics import EVENTS, NATIVE_EVENTS, ProcessorMetrics
from dua_stream.processor.route import Output

from .conftest import T0, Message


@dataclass
class _Delivery:
    outputs: Sequence[Output]
    confirmed: asyncio.Future[None]
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)


class _Deliverer:
    """Hands out deliveries the test confirms (or fails) one by one."""

    def __init__(self) -> None:
        self.deliveries: list[_Delivery] = []

    def produce(self, outputs: Sequence[Output], loop: asyncio.AbstractEventLoop) -> _Delivery:
        delivery = _Delivery(outputs, loop.create_future())
        self.deliveries.append(delivery)
        return delivery

    async def wait(self, delivery: _Delivery, _loop: asyncio.AbstractEventLoop) -> None:
        await delivery.confirmed


class _Processor:
    """One tagged output per raw input; counts one event per input."""

    def process(self, consent: Sequence[Any], raw: Sequence[Any], now: datetime) -> BatchResult:
        result = BatchResult(policy_version="v1")
        for message in [*consent, *raw]:
            result.outputs.append(Output("tagged", message.key, message.value))
            result.events[("svc", "hr")] += 1
            result.occurred_at.append(now.timestamp())
        result.native = len(raw)
        return result


class _Consumer:
    def __init__(self) -> None:
        self.acked: list[int] = []

    def ack_batch(self, messages: Sequence[Message]) -> None:
        self.acked.extend(m.offset for m in messages)


@dataclass
class _Rig:
    handler: ProcessorHandler
    deliverer: _Deliverer
    consumer: _Consumer
    metrics: ProcessorMetrics
    crashes: list[BaseException]
    confirmed_offsets: list[Mapping[tuple[str, int], int]]


def _rig(max_in_flight: int = 2, metrics: ProcessorMetrics | None = None) -> _Rig:
    deliverer, consumer = _Deliverer(), _Consumer()
    crashes: list[BaseException] = []
    confirmed: list[Mapping[tuple[str, int], int]] = []

    async def crash(exc: BaseException) -> None:
        crashes.append(exc)

    metrics = metrics or ProcessorMetrics()
    handler = ProcessorHandler(
        _Processor(),  # type: ignore[arg-type]
        deliverer,  # type: ignore[arg-type]
        metrics,
        raw_topic="raw",
        consent_topic="consent",
        max_in_flight=max_in_flight,
        clock=lambda: T0,
        crash=crash,
        on_confirmed=confirmed.append,
    )
    return _Rig(handler, deliverer, consumer, metrics, crashes, confirmed)


def _batch(partition: int, *offsets: int) -> list[Message]:
    return [Message("raw", partition, o, b"k", b"v%d" % o) for o in offsets]


async def _settle() -> None:
    for _ in range(5):  # the handler's tasks run on the loop's next turns
        await asyncio.sleep(0)


async def test_inputs_are_acknowledged_only_once_their_outputs_are_confirmed() -> None:
    rig = _rig()
    assert rig.handler.idle
    await rig.handler.handle(rig.consumer, _batch(0, 10, 11))
    await _settle()
    assert not rig.handler.idle
    (delivery,) = rig.deliverer.deliveries
    assert [o.value for o in delivery.outputs] == [b"v10", b"v11"]
    assert rig.consumer.acked == []
    assert rig.handler.positions == {}
    assert (
        rig.metrics.registry.get_sample_value(EVENTS, {"service": "svc", "purpose_category": "hr"})
        is None
    )
    delivery.offsets[("changelog", 0)] = 7
    delivery.confirmed.set_result(None)
    await _settle()
    assert rig.consumer.acked == [10, 11]
    assert rig.handler.positions == {("raw", 0): 12}
    assert rig.handler.idle
    assert rig.confirmed_offsets == [{("changelog", 0): 7}]
    labels = {"service": "svc", "purpose_category": "hr"}
    # counted once confirmed, not when produced
    assert rig.metrics.registry.get_sample_value(EVENTS, labels) == 2
    assert rig.metrics.registry.get_sample_value(NATIVE_EVENTS) == 2


async def test_a_full_window_of_batches_in_flight_pauses_fetching() -> None:
    rig = _rig(max_in_flight=2)
    await rig.handler.handle(rig.consumer, _batch(0, 1))
    second = asyncio.ensure_future(rig.handler.handle(rig.consumer, _batch(1, 1)))
    await _settle()
    assert not second.done()  # two batches unconfirmed: the second fetch waits
    rig.deliverer.deliveries[0].confirmed.set_result(None)
    await _settle()
    assert second.done()
    third = asyncio.ensure_future(rig.handler.handle(rig.consumer, _batch(0, 2)))
    await _settle()
    assert not third.done()
    for delivery in rig.deliverer.deliveries[1:]:
        delivery.confirmed.set_result(None)
    await _settle()
    await rig.handler.drain()
    assert third.done()
    assert sorted(rig.consumer.acked) == [1, 1, 2]
    assert rig.handler.positions == {("raw", 0): 3, ("raw", 1): 2}


async def test_a_batch_that_cannot_be_confirmed_stops_the_worker_unacknowledged() -> None:
    rig = _rig()
    await rig.handler.handle(rig.consumer, _batch(0, 5))
    failure = RuntimeError("the producer is gone")
    rig.deliverer.deliveries[0].confirmed.set_exception(failure)
    await rig.handler.drain()
    assert rig.crashes == [failure]
    assert rig.consumer.acked == []  # a restart processes the batch again
    assert rig.handler.positions == {}
    assert rig.confirmed_offsets == []


async def test_a_metrics_failure_costs_no_acknowledgement() -> None:
    class _Broken(ProcessorMetrics):
        def record_batch(self, *args: Any, **kwargs: Any) -> None:
            raise ValueError("a label went wrong")

    rig = _rig(metrics=_Broken())
    await rig.handler.handle(rig.consumer, _batch(2, 3))
    rig.deliverer.deliveries[0].confirmed.set_result(None)
    await rig.handler.drain()
    assert rig.consumer.acked == [3]
    assert rig.handler.positions == {("raw", 2): 4}
    assert rig.crashes == []


async def test_consent_messages_are_split_from_access_events() -> None:
    rig = _rig()
    seen: list[tuple[list[int], list[int]]] = []
    processor = _Processor()

    def process(consent: Sequence[Any], raw: Sequence[Any], now: datetime) -> BatchResult:
        seen.append(([m.offset for m in consent], [m.offset for m in raw]))
        return processor.process(consent, raw, now)

    rig.handler._processor.process = process  # type: ignore[method-assign]
    mixed = [*_batch(0, 1), Message("consent", 0, 9, b"k", b"c"), *_batch(0, 2)]
    await rig.handler.handle(rig.consumer, mixed)
    rig.deliverer.deliveries[0].confirmed.set_result(None)
    await rig.handler.drain()
    assert seen == [([9], [1, 2])]
    assert rig.handler.positions == {("raw", 0): 3, ("consent", 0): 10}


@pytest.mark.parametrize("batches", [0, 3])
async def test_drain_returns_once_nothing_is_in_flight(batches: int) -> None:
    rig = _rig(max_in_flight=4)
    for offset in range(batches):
        await rig.handler.handle(rig.consumer, _batch(0, offset))
    drained = asyncio.ensure_future(rig.handler.drain())
    await _settle()
    assert drained.done() == (batches == 0)
    for delivery in rig.deliverer.deliveries:
        delivery.confirmed.set_result(None)
    await drained
    assert rig.consumer.acked == list(range(batches))


@dataclass(frozen=True)
class _Stamped(Message):
    timestamp: int | None = None  # the Kafka timestamp, ms


async def test_each_consent_change_s_delay_is_observed_and_access_events_are_not() -> None:
    """What the consent grace must cover: fetch time - the change's Kafka timestamp."""
    rig = _rig()
    now_ms = int(T0.timestamp() * 1000)
    messages = [
        _Stamped("consent", 0, 1, b"k", b"c", timestamp=now_ms - 40),
        _Stamped("consent", 0, 2, b"k", b"c", timestamp=now_ms - 600),
        _Stamped("raw", 0, 5, b"k", b"v", timestamp=now_ms - 5_000),
    ]
    await rig.handler.handle(rig.consumer, messages)
    registry = rig.metrics.registry
    name = "dua_processor_consent_delay_seconds"
    assert registry.get_sample_value(f"{name}_count") == 2
    assert registry.get_sample_value(f"{name}_sum") == pytest.approx(0.64)
    assert registry.get_sample_value(f"{name}_bucket", {"le": "0.03"}) == 0
    assert registry.get_sample_value(f"{name}_bucket", {"le": "0.05"}) == 1
    assert registry.get_sample_value(f"{name}_bucket", {"le": "0.5"}) == 1
    assert registry.get_sample_value(f"{name}_bucket", {"le": "0.75"}) == 2
