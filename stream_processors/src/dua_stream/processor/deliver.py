"""Produces a batch's outputs with confluent-kafka and tells when the broker has them all.

Delivery reports are served on the event loop's own thread (`serve()`, a task polling the
producer, plus a poll after each batch): served from a second thread, every report would
wait for the GIL held by the batch work, and the window of batches in flight would stall. A
`Delivery` counts the outstanding messages of one batch and resolves an asyncio future when
none is left. Failed messages are produced again (after a pause) until the broker takes
them: a batch is never reported done with an output missing, so its inputs are never
acknowledged too early. Only a fatal error of the producer ends that (`ProducerFailed`): the
worker stops, and a new one processes the batch again.

Because every report of a running worker comes from `poll()` on the loop's thread, the count
needs no lock: the report callback runs once per output message (~2 per event), so it does
the least it can. The one call from elsewhere, `close()`'s flush, comes after the loop has
stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Final

from confluent_kafka import KafkaError, Producer

from dua_schemas import DuaError
from dua_stream.processor.route import Output

log = logging.getLogger("dua_stream.processor.deliver")

RETRY_PAUSE_S: Final = 1.0
_POLL_S: Final = 0.05
_IDLE_S: Final = 0.002


class ProducerFailed(DuaError):
    """The output producer hit a fatal error: it cannot deliver anything any more."""

    def __init__(self, error: KafkaError) -> None:
        super().__init__(
            f"the output producer failed for good ({error.name()}: {error.str()}); the worker "
            "stops so that a new one, with a new producer, processes the batch again"
        )
        self.error = error


class Delivery:
    """The outstanding messages of one batch; `future` resolves with the failed ones."""

    __slots__ = ("_loop", "_pending", "failed", "fatal", "future", "offsets", "reasons")

    def __init__(self, loop: asyncio.AbstractEventLoop, messages: int) -> None:
        self._loop = loop
        # one more than the messages, held by the producing side until all are handed over
        self._pending = messages + 1
        self.failed: list[Output] = []
        # (topic, error name, error text) -> failed messages: what the retry's log line says
        self.reasons: Counter[tuple[str, str, str]] = Counter()
        self.fatal: KafkaError | None = None  # a fatal error: the producer is unusable
        self.future: asyncio.Future[list[Output]] = loop.create_future()
        # (topic, partition) -> newest offset confirmed, for the tracked topics' messages
        self.offsets: dict[tuple[str, int], int] = {}

    def on_tracked_delivery(self, error: KafkaError | None, message: Any) -> None:
        """`on_delivery` for a message of a tracked topic: also notes its offset."""
        if error is None:
            where = (message.topic(), message.partition())
            offset = message.offset()
            if offset > self.offsets.get(where, -1):
                self.offsets[where] = offset
        self.on_delivery(error, message)

    def on_delivery(self, error: KafkaError | None, message: Any) -> None:
        """confluent-kafka's delivery report (runs in `Producer.poll`, on the loop's thread)."""
        if error is not None:
            self.reasons[(message.topic(), error.name(), error.str())] += 1
            if error.fatal():
                self.fatal = error
            partition = message.partition()
            self.failed.append(
                Output(
                    message.topic(),
                    message.key(),
                    message.value(),
                    message.headers(),
                    partition if partition is not None and partition >= 0 else None,
                )
            )
        self._pending -= 1
        if not self._pending:
            self._done()

    def sealed(self) -> None:
        """Every message has been handed to the producer."""
        self._pending -= 1
        if not self._pending:
            self._done()

    @property
    def pending(self) -> int:
        """Messages not yet reported (plus one until `sealed()`)."""
        return self._pending

    def _done(self) -> None:
        # call_soon: the future's callbacks must not run inside the producer's poll
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._resolve)

    def _resolve(self) -> None:
        if not self.future.done():
            self.future.set_result(self.failed)


class Deliverer:
    """One idempotent confluent-kafka producer for every output topic.

    `tracked`: topics whose confirmed offsets each `Delivery` notes (`Delivery.offsets`;
    the tables' changelogs, see `store.py`).
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        tracked: Collection[str] = (),
        *,
        refresh: Callable[[Output], Output] | None = None,
    ) -> None:
        """`refresh`: gives a failed message of a tracked topic the value to produce again
        (see `wait`); without it, failed messages are produced again as they were."""
        self._producer = Producer(dict(config))
        self._serving = True
        self._tracked = frozenset(tracked)
        self._refresh = refresh

    async def serve(self) -> None:
        """Serve delivery reports until `close()`; run it as a task of the event loop."""
        poll = self._producer.poll
        while self._serving:
            served = poll(0)
            await asyncio.sleep(0 if served else _IDLE_S)

    def produce(self, outputs: Sequence[Output], loop: asyncio.AbstractEventLoop) -> Delivery:
        """Hand `outputs` to the producer; await `wait(delivery)` for the broker's answer."""
        delivery = Delivery(loop, len(outputs))
        self._produce_into(delivery, outputs)
        delivery.sealed()
        self._producer.poll(0)  # reports of earlier batches, without waiting
        return delivery

    async def wait(self, delivery: Delivery, loop: asyncio.AbstractEventLoop) -> None:
        """Return once every message of `delivery` is confirmed, producing failures again.

        A tracked message (a table changelog record) is produced again with `refresh`'s value:
        the key's value *now*. Batches after this one went on meanwhile, and one of them may
        have written a newer value of the same key that the broker already took; the old
        value, confirmed after it, would be the last record of its key, the one a compacted
        changelog keeps and a recovery applies. The offsets the retries are confirmed at are
        added to `delivery.offsets`.

        Raises `ProducerFailed` after a fatal error of the producer (librdkafka's word: the
        producer must be replaced); producing again with it could never succeed.
        """
        failed = await delivery.future
        attempt = delivery
        while failed:
            if attempt.fatal is not None:
                raise ProducerFailed(attempt.fatal)
            log.warning(
                "%d outputs were not delivered (%s); producing them again in %.0f s",
                len(failed),
                _describe(attempt.reasons),
                RETRY_PAUSE_S,
            )
            await asyncio.sleep(RETRY_PAUSE_S)
            attempt = self.produce(self._again(failed), loop)
            failed = await attempt.future
            for where, offset in attempt.offsets.items():
                if offset > delivery.offsets.get(where, -1):
                    delivery.offsets[where] = offset

    def _again(self, failed: Sequence[Output]) -> list[Output]:
        """The failed messages to produce again, tracked ones refreshed."""
        refresh, tracked = self._refresh, self._tracked
        if refresh is None:
            return list(failed)
        return [refresh(o) if o.topic in tracked else o for o in failed]

    def close(self, timeout: float = 30.0) -> int:
        """Flush and stop; returns the number of messages still not delivered."""
        self._serving = False
        return int(self._producer.flush(timeout))

    def _produce_into(self, delivery: Delivery, outputs: Sequence[Output]) -> None:
        produce = self._producer.produce
        tracked = self._tracked
        plain, tracking = delivery.on_delivery, delivery.on_tracked_delivery
        for output in outputs:
            topic, key, value, headers, partition = output
            report = tracking if topic in tracked else plain
            while True:
                try:
                    if partition is None:
                        produce(topic, value, key, headers=headers, on_delivery=report)
                    else:
                        produce(topic, value, key, partition, headers=headers, on_delivery=report)
                    break
                except BufferError:
                    # the local queue is full: wait for the broker to take some
                    self._producer.poll(_POLL_S)


def _describe(reasons: Mapping[tuple[str, str, str], int]) -> str:
    """What went wrong, per topic and error: `tagged: MSG_SIZE_TOO_LARGE (Broker: ...) x2`."""
    return "; ".join(
        f"{topic}: {name} ({text}) x{count}" for (topic, name, text), count in reasons.items()
    )
