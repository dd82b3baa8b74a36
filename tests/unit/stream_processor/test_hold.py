"""`GraceHold` and the handler with it: raw records within the consent grace wait, in
partition order, unacknowledged, and consent changes fetched meanwhile go first."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from dua_stream.processor.batch import BatchResult
from dua_stream.processor.handler import ProcessorHandler
from dua_stream.processor.hold import BACKLOG_RECHECK_MS, CONSENT_BACKLOG_HOLD_MS, GraceHold
from dua_stream.processor.metrics import ProcessorMetrics
from dua_stream.processor.route import Output

from .conftest import T0
from .test_handler import _Consumer, _Deliverer, _settle

NOW_MS = int(T0.timestamp() * 1000)


@dataclass(frozen=True)
class Record:
    """A consumed record with its Kafka timestamp (ms), as aiokafka gives it."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None = b"k"
    value: bytes | None = b"v"


def test_records_older_than_the_grace_pass_as_they_are() -> None:
    """A backlog (every record past the grace) is returned as is: nothing held."""
    hold = GraceHold(1_000)
    raw = [Record("raw", 0, 1, NOW_MS - 5_000), Record("raw", 1, 1, NOW_MS - 1_000)]
    assert hold.release(raw, NOW_MS) is raw
    assert not hold.holding


def test_a_recent_record_holds_the_rest_of_its_partition() -> None:
    """A record within the grace waits, and every later record of its partition with it
    (even an older one), until the grace has passed; other partitions go on."""
    hold = GraceHold(1_000)
    fresh = Record("raw", 0, 1, NOW_MS - 10)
    older = Record("raw", 0, 2, NOW_MS - 9_000)
    other = Record("raw", 1, 1, NOW_MS - 9_000)
    assert hold.release([fresh, older, other], NOW_MS) == [other]
    assert hold.holding
    assert hold.release([], NOW_MS + 500) == []
    assert hold.release([], NOW_MS + 990) == [fresh, older]
    assert not hold.holding


def test_a_grace_of_zero_holds_nothing() -> None:
    """`DUA_PROCESSOR_CONSENT_GRACE_MS=0`: classified at once, as before."""
    raw = [Record("raw", 0, 1, NOW_MS)]
    assert GraceHold(0).release(raw, NOW_MS) is raw


class _Processor:
    """Records what each batch held: consent first, then raw."""

    def __init__(self) -> None:
        self.batches: list[tuple[list[int], list[int]]] = []

    def process(self, consent: Sequence[Any], raw: Sequence[Any], now: datetime) -> BatchResult:
        self.batches.append(([m.offset for m in consent], [m.offset for m in raw]))
        result = BatchResult(policy_version="v1")
        for message in [*consent, *raw]:
            result.outputs.append(Output("tagged", message.key, message.value))
        return result


def _handler(
    processor: _Processor, deliverer: _Deliverer, clock: list[datetime], *, grace_ms: int
) -> ProcessorHandler:
    """A handler whose clock reads `clock[0]`; a crash fails the test."""

    async def crash(exc: BaseException) -> None:
        raise AssertionError(exc)

    return ProcessorHandler(
        processor,  # type: ignore[arg-type]
        deliverer,  # type: ignore[arg-type]
        ProcessorMetrics(),
        raw_topic="raw",
        consent_topic="consent",
        max_in_flight=4,
        clock=lambda: clock[0],
        crash=crash,
        consent_grace_ms=grace_ms,
    )


async def test_held_records_are_acknowledged_only_once_processed() -> None:
    """An access fetched before the opt-out that precedes it is classified after it, and
    acknowledged only with the batch that processed it."""
    clock = [T0]
    processor, deliverer, consumer = _Processor(), _Deliverer(), _Consumer()
    handler = _handler(processor, deliverer, clock, grace_ms=1_000)
    await handler.handle(consumer, [Record("raw", 0, 7, NOW_MS)])
    assert handler.holding
    assert processor.batches == []
    clock[0] = T0 + timedelta(milliseconds=300)
    await handler.handle(consumer, [Record("consent", 0, 3, NOW_MS - 1)])
    clock[0] = T0 + timedelta(milliseconds=1_000)
    await handler.handle(consumer, [])
    assert processor.batches == [([3], []), ([], [7])]
    for delivery in deliverer.deliveries:
        delivery.confirmed.set_result(None)
    await _settle()
    assert consumer.acked == [3, 7]
    assert handler.positions == {("consent", 0): 4, ("raw", 0): 8}


async def test_draining_processes_what_is_held() -> None:
    """Before partitions are given away (or the worker stops) the held records are
    processed and confirmed, not dropped."""
    processor, deliverer, consumer = _Processor(), _Deliverer(), _Consumer()
    handler = _handler(processor, deliverer, [T0], grace_ms=1_000)
    await handler.handle(consumer, [Record("raw", 2, 1, NOW_MS)])
    drained = asyncio.ensure_future(handler.drain())
    await _settle()
    (delivery,) = deliverer.deliveries
    delivery.confirmed.set_result(None)
    await drained
    assert consumer.acked == [1]
    assert not handler.holding


def test_while_the_consent_topic_is_behind_even_a_backlog_waits() -> None:
    """Records older than the grace (a backlog) wait too while consent is not fetched up."""
    hold = GraceHold(250)
    raw = [Record("raw", 0, 1, NOW_MS - 60_000), Record("raw", 1, 1, NOW_MS - 30_000)]
    assert hold.release(raw, NOW_MS, consent_behind=True) == []
    assert hold.holding
    assert [r.offset for r in hold.release([], NOW_MS)] == [1, 1]
    assert not hold.holding


@dataclass
class _TP:
    topic: str
    partition: int

    def __hash__(self) -> int:
        return hash((self.topic, self.partition))


class _LaggingConsumer(_Consumer):
    """A consumer whose consent partition has `behind` records not yet fetched; `known`:
    whether it has a position and a highwater for it yet (False: `unknown` says which)."""

    def __init__(self) -> None:
        super().__init__()
        self.behind = 0
        self.known = True
        self.unknown = "highwater"

    def assignment(self) -> set[_TP]:
        return {_TP("raw", 0), _TP("consent", 0)}

    def consumed_position(self, tp: _TP) -> int | None:
        hidden = tp.topic == "consent" and not self.known and self.unknown == "position"
        return None if hidden else 10

    def highwater(self, tp: _TP) -> int | None:
        if tp.topic == "consent" and not self.known and self.unknown == "highwater":
            return None
        return 10 + (self.behind if tp.topic == "consent" else 500)


async def test_a_backlog_of_accesses_waits_for_the_consent_backlog_before_it() -> None:
    """After a restart both topics are read from behind, in no order between them: accesses
    wait until the consent partitions are fetched up, then go after the changes; at most
    `CONSENT_BACKLOG_HOLD_MS` (an open consent transaction must not stop the stream)."""
    clock = [T0]
    processor, deliverer, consumer = _Processor(), _Deliverer(), _LaggingConsumer()
    handler = _handler(processor, deliverer, clock, grace_ms=250)
    consumer.behind = 3
    await handler.handle(consumer, [Record("raw", 0, 7, NOW_MS - 60_000)])
    assert processor.batches == []
    consumer.behind = 0
    await handler.handle(consumer, [Record("consent", 0, 3, NOW_MS - 61_000)])
    assert processor.batches == [([3], [7])]
    # still behind past the bound: the accesses go on
    consumer.behind = 5
    await handler.handle(consumer, [Record("raw", 0, 8, NOW_MS - 50_000)])
    clock[0] = T0 + timedelta(milliseconds=CONSENT_BACKLOG_HOLD_MS)
    await handler.handle(consumer, [])
    assert processor.batches[-1] == ([], [8])


@pytest.mark.parametrize("unknown", ["highwater", "position"])
async def test_accesses_wait_while_a_consent_partition_cannot_say_how_far_it_is(
    unknown: str,
) -> None:
    """A worker starting: the raw partition's first fetch came back, the consent partition's
    not yet (no highwater, or no position): accesses past their grace wait for it, then go
    after its changes; at most `CONSENT_BACKLOG_HOLD_MS`."""
    clock = [T0]
    processor, deliverer, consumer = _Processor(), _Deliverer(), _LaggingConsumer()
    handler = _handler(processor, deliverer, clock, grace_ms=250)
    consumer.known, consumer.unknown = False, unknown
    await handler.handle(consumer, [Record("raw", 0, 7, NOW_MS - 800)])
    assert processor.batches == []
    consumer.known = True
    await handler.handle(consumer, [Record("consent", 0, 1, NOW_MS - 900)])
    assert processor.batches == [([1], [7])]
    consumer.known = False
    await handler.handle(consumer, [Record("raw", 0, 8, NOW_MS - 700)])
    clock[0] = T0 + timedelta(milliseconds=CONSENT_BACKLOG_HOLD_MS)
    await handler.handle(consumer, [])
    assert processor.batches[-1] == ([], [8])


def test_the_next_fetch_waits_no_longer_than_the_first_held_grace() -> None:
    """A held record is released when its grace ends, not when traffic resumes: the fetch
    wait is the time left of the earliest held record's grace; a short recheck once only a
    consent backlog holds them; None with nothing held."""
    hold = GraceHold(250)
    assert hold.due_in_ms(NOW_MS) is None
    hold.release([Record("raw", 0, 1, NOW_MS - 100), Record("raw", 1, 7, NOW_MS - 40)], NOW_MS)
    assert hold.due_in_ms(NOW_MS) == 150
    assert hold.due_in_ms(NOW_MS + 149) == 1
    assert hold.due_in_ms(NOW_MS + 150) == BACKLOG_RECHECK_MS
    assert hold.release([], NOW_MS + 150) == [Record("raw", 0, 1, NOW_MS - 100)]
    assert hold.due_in_ms(NOW_MS + 150) == 60
