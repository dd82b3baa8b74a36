"""The batch handler: one fetch in, outputs produced, inputs acknowledged once confirmed.

Up to `max_in_flight_batches` batches wait for the broker's confirmation at a time while the
next one is decoded and classified; when the window is full, fetching waits. An input is
acknowledged (and so its offset may be committed) only after every output of its batch,
state changelog records included, is confirmed: at-least-once from raw input to output. Raw
records still within the consent grace wait in a `GraceHold`, unacknowledged, and are
processed with a later fetch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from dua_stream.processor.batch import BatchProcessor, BatchResult, InputMessage
from dua_stream.processor.deliver import Deliverer, Delivery
from dua_stream.processor.hold import CONSENT_BACKLOG_HOLD_MS, GraceHold
from dua_stream.processor.metrics import ProcessorMetrics

log = logging.getLogger("dua_stream.processor.handler")


class ProcessorHandler:
    """`BatchHandler` of the raw and consent topics."""

    def __init__(
        self,
        processor: BatchProcessor,
        deliverer: Deliverer,
        metrics: ProcessorMetrics,
        *,
        raw_topic: str,
        consent_topic: str,
        max_in_flight: int,
        clock: Callable[[], datetime],
        crash: Callable[[BaseException], Awaitable[None]],
        on_confirmed: Callable[[Mapping[tuple[str, int], int]], None] | None = None,
        consent_grace_ms: int = 0,
    ) -> None:
        """`on_confirmed`: called with a batch's confirmed offsets of the deliverer's
        tracked topics (the table changelogs) once the whole batch is confirmed;
        `consent_grace_ms`: how long raw records wait for the consent topic (`GraceHold`)."""
        self._processor = processor
        self._deliverer = deliverer
        self._metrics = metrics
        self._raw_topic = raw_topic
        self._consent_topic = consent_topic
        self._max_in_flight = max_in_flight
        self._clock = clock
        self._crash = crash
        self._on_confirmed = on_confirmed
        self._in_flight: set[asyncio.Task[None]] = set()
        self._hold = GraceHold(consent_grace_ms)
        self._behind_since: int | None = None  # when the consent topic was first seen behind
        self._consumer: Any = None  # the consumer of the last fetch: held records' acks
        # (topic, partition) -> next offset to process, as far as confirmed outputs go
        self.positions: dict[tuple[str, int], int] = {}

    @property
    def idle(self) -> bool:
        """No batch is waiting for its confirmation."""
        return not self._in_flight

    @property
    def topics(self) -> frozenset[str]:
        return frozenset((self._raw_topic, self._consent_topic))

    @property
    def holding(self) -> bool:
        """Raw records wait for the consent grace (an empty fetch should still be handled)."""
        return self._hold.holding

    def fetch_wait_s(self, longest_s: float) -> float:
        """How long the next fetch may wait for records: `longest_s`, or less while records
        are held, so they are released when their grace ends, not when traffic resumes."""
        due_ms = self._hold.due_in_ms(int(self._clock().timestamp() * 1000))
        return longest_s if due_ms is None else min(longest_s, due_ms / 1000)

    async def handle(self, consumer: Any, messages: Sequence[Any]) -> None:
        """Process one fetch; returns once it is handed to the producer (not yet confirmed)."""
        self._consumer = consumer
        consent = [m for m in messages if m.topic == self._consent_topic]
        raw = [m for m in messages if m.topic != self._consent_topic] if consent else messages
        now = self._clock()
        now_ms = int(now.timestamp() * 1000)
        if consent:
            # what the grace must cover: how long after it was produced a change is applied
            self._metrics.observe_consent_delays(
                (now_ms - (getattr(m, "timestamp", None) or now_ms)) / 1000 for m in consent
            )
        ready = self._hold.release(
            raw, now_ms, consent_behind=self._consent_behind(consumer, now_ms)
        )
        if ready is not raw:
            raw = ready
            messages = [*consent, *ready]
        await self._process(consumer, consent, raw, messages, now)

    def _consent_behind(self, consumer: Any, now_ms: int) -> bool:
        """Raw records must wait for the consent topic: one of its partitions of this worker
        has records not yet fetched, or cannot say yet, since less than
        `CONSENT_BACKLOG_HOLD_MS`."""
        if not self._consent_lagging(consumer):
            self._behind_since = None
            return False
        if self._behind_since is None:
            self._behind_since = now_ms
        return now_ms - self._behind_since < CONSENT_BACKLOG_HOLD_MS

    def _consent_lagging(self, consumer: Any) -> bool:
        try:
            assignment = consumer.assignment()
            for tp in assignment:
                if tp.topic != self._consent_topic:
                    continue
                consumed = consumer.consumed_position(tp)
                highwater = consumer.highwater(tp)
                # Unknown (no position or no fetch response yet since the assignment: a
                # worker starting, a partition whose leader is still being found) is behind:
                # its first fetch may hold changes older than the raw records fetched from
                # another broker first. Seen: a link consent 0.8 s in the log, missed so.
                if consumed is None or highwater is None or consumed < highwater:
                    return True
        except Exception:
            # a probe: a consumer that cannot say (a test double, a partition between
            # assignments) means no wait, never a stopped stream
            return False
        return False

    async def _process(
        self,
        consumer: Any,
        consent: Sequence[Any],
        raw: Sequence[Any],
        messages: Sequence[Any],
        now: datetime,
    ) -> None:
        if not messages:
            return
        result = self._processor.process(consent, raw, now)
        loop = asyncio.get_running_loop()
        delivery = self._deliverer.produce(result.outputs, loop)
        task = loop.create_task(self._settle(consumer, messages, delivery, result))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        while len(self._in_flight) >= self._max_in_flight:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)

    async def send(self, outputs: Sequence[Any]) -> None:
        """Produce outputs that no input waits for (expiry tombstones) and wait for them."""
        loop = asyncio.get_running_loop()
        delivery = self._deliverer.produce(outputs, loop)
        await self._deliverer.wait(delivery, loop)
        self._confirmed(delivery)

    async def drain(self) -> None:
        """Process the records held for the grace, then wait for every batch in flight to be
        confirmed and acknowledged (before partitions are given away, or the worker stops)."""
        held = self._hold.flush()
        if held and self._consumer is not None:
            await self._process(self._consumer, [], held, held, self._clock())
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def _settle(
        self,
        consumer: Any,
        messages: Sequence[InputMessage],
        delivery: Delivery,
        result: BatchResult,
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            await self._deliverer.wait(delivery, loop)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Never leave a batch unacknowledged in silence (its partitions would stop
            # committing): stop the worker loudly; a restart processes the batch again.
            log.critical("a batch could not be confirmed; stopping the worker", exc_info=exc)
            await self._crash(exc)
            return
        self._confirmed(delivery)
        consumer.ack_batch(messages)
        positions = self.positions
        for message in messages:
            positions[(message.topic, message.partition)] = message.offset + 1
        try:
            self._metrics.record_batch(
                result.events,
                result.violations,
                result.rejected,
                result.consent_changes,
                len(messages),
                clock_ahead=result.clock_ahead,
                native=result.native,
                late=result.late,
                contradicted=result.contradicted,
            )
            confirmed = self._clock().timestamp()
            self._metrics.observe_latencies([confirmed - at for at in result.occurred_at])
        except Exception:  # metrics must never cost an event
            log.exception("updating metrics failed")

    def _confirmed(self, delivery: Delivery) -> None:
        if delivery.offsets and self._on_confirmed is not None:
            self._on_confirmed(delivery.offsets)
