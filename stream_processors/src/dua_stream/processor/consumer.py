"""A Faust consumer that hands whole fetches of the busy topics to a batch handler.

Stock Faust delivers every message on its own: a lock, two tasks and an `asyncio.wait` per
message (`Consumer._drain_messages`), which measured about 5,000 messages/s here whatever
the agent did. This subclass keeps everything else of Faust (group membership, the
co-partitioning assignor, table recovery, pausing during rebalances, gap tracking, offset
commits of acknowledged messages) and changes how the *batch topics* are delivered: their
records are collected per fetch and given to `BatchHandler.handle` in one call, as
aiokafka's own records (no Faust `Message` per record), and acknowledged a batch at a time
(`ack_batch`: Faust's per-message `ack` bookkeeping, under one lock). Because no Faust
message stands for them, Faust's `wait_empty` (before partitions are given away in a
rebalance) is told to wait for the handler's batches in flight first. Messages of other
topics (table changelogs during recovery) still go through Faust's per-message path.

`_drain_messages`, `ack_batch` and `wait_empty` follow faust-streaming 0.15.3's own code
(the version pinned in requirements/constraints.txt).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from itertools import groupby
from operator import attrgetter
from typing import Any, Final, Protocol, cast

from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

READ_COMMITTED: Final = "read_committed"
_TOPIC_PARTITION: Final = attrgetter("topic", "partition")
# A fetch waits at most this long for records (Faust's own wait), less while records are held.
FETCH_WAIT_S: Final = 1.0


class BatchHandler(Protocol):
    """Receives the records of `topics` one fetch at a time (aiokafka `ConsumerRecord`s:
    topic, partition, offset, key, value); acks them via `consumer.ack_batch` once done."""

    @property
    def topics(self) -> frozenset[str]: ...

    def fetch_wait_s(self, longest_s: float) -> float: ...

    @property
    def holding(self) -> bool:
        """Records wait in the handler: an empty fetch is handed over too."""
        ...

    async def handle(self, consumer: Any, messages: Sequence[Any]) -> None: ...

    async def drain(self) -> None: ...


class ReadCommittedConsumerThread(aiokafka_driver.AIOKafkaConsumerThread):
    """Faust's aiokafka consumer thread, reading only committed records of transactions.

    Faust reads `read_committed` only when it writes in transactions itself (exactly-once);
    otherwise it also delivers the records of aborted transactions. An access event in an
    aborted transaction was retracted by the service that wrote it: auditing it would report
    an access, and perhaps a violation, that did not happen. Without transactions on a topic
    the two levels read the same records at the same cost.
    """

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads the level when the consumer starts (it builds its Fetcher then), and
        # Faust takes it from no setting of its own (aiokafka 0.14.0, pinned in
        # constraints.txt; tests/integration/test_processor_transactions.py checks it works)
        consumer._isolation_level = READ_COMMITTED
        return consumer

    def consumed_position(self, tp: TP) -> int | None:
        """The offset after the last record of `tp` handed out (transaction markers and
        aborted records skipped); None before the first fetch. Read as aiokafka's own
        `highwater()` reads its partition state."""
        try:
            consumer = self._ensure_consumer()
            state = consumer._subscription.subscription.assignment.state_value(tp)
        except (AttributeError, AssertionError):  # not started, or between assignments
            return None
        if state is None or not state.has_valid_position:
            return None
        return int(state.position)


class BatchingConsumer(aiokafka_driver.Consumer):
    """Faust's aiokafka consumer, delivering the batch topics a fetch at a time, and only
    committed records of transactions (`ReadCommittedConsumerThread`)."""

    def _new_consumer_thread(self) -> aiokafka_driver.AIOKafkaConsumerThread:
        return ReadCommittedConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def consumed_position(self, tp: TP) -> int | None:
        """See `ReadCommittedConsumerThread.consumed_position`."""
        thread = cast(ReadCommittedConsumerThread, self._thread)
        return thread.consumed_position(tp)

    def committed_position(self, tp: TP) -> int | None:
        """The group's committed offset of `tp` as Faust last committed or read it."""
        return self._committed_offset.get(tp)

    async def _drain_messages(self, fetcher: Any) -> None:
        handler: BatchHandler = cast(Any, self.app).batch_handler  # set by ProcessorApp
        batch_topics = handler.topics
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        set_flag = self.diag.set_flag
        unset_flag = self.diag.unset_flag
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                set_flag(CONSUMER_FETCHING)
                # Faust sleeps here too: a fetch can return at once, in a loop
                await self.sleep(0)
                if self.should_stop:
                    continue
                batch = await self._fetch_batch(batch_topics, handler.fetch_wait_s(FETCH_WAIT_S))
                if batch or handler.holding:
                    await handler.handle(self, batch)
                commit_every = self._commit_every
                if commit_every is not None and self._n_acked >= commit_every:
                    self._n_acked = 0
                    await self.commit()
                unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception:
            self.log.exception("Drain messages raised")
            raise
        finally:
            unset_flag(CONSUMER_FETCHING)

    async def _fetch_batch(self, batch_topics: frozenset[str], wait_s: float) -> list[Any]:
        """One fetch: batch-topic messages are returned, others delivered Faust's way.

        Faust's `getmany` does the same per message (highwater, monitor, generation check,
        round-robin across partitions); here the checks are made once per fetch and
        partition, and a fetch that straddles a new generation is dropped whole, as Faust
        drops the rest of one (the rebalance seeks every partition to its committed offset).
        """
        records, active = await self._wait_next_records(wait_s)
        if records is None or self.should_stop:
            return []
        if not self.flow_active:
            try:
                await self.perform_seek()
            except Exception as exc:  # Faust logs and goes on here as well
                self.log.warning(f"exception performing seek when flow not active {exc}")
            return []
        generation_id = self.app.consumer_generation_id
        to_message = self._to_message
        read_offset = self._read_offset
        buffered = self._buffered_partitions
        monitor = self.app.monitor
        batch: list[Any] = []
        for tp, tp_records in records.items():
            if active is not None and tp not in active and tp not in buffered:
                continue
            if self.app.consumer_generation_id != generation_id:
                return []
            monitor.track_tp_end_offset(tp, self.highwater(tp))
            r_offset = read_offset[tp]
            for record in tp_records:
                offset = record.offset
                if r_offset is not None and offset < r_offset:
                    continue  # read before a seek: Faust drops these as well
                if (
                    r_offset
                    and offset - r_offset > 1
                    and self.app.topics.acks_enabled_for(tp.topic)
                ):
                    # compacted or transactional gap: mark it done for commits
                    await self._add_gap(tp, r_offset + 1, offset)
                if tp.topic in batch_topics:
                    batch.append(record)  # aiokafka's record: no Faust message needed
                else:
                    message = to_message(tp, record)
                    await self.wait_first(self.callback(message), self.suspend_flow.wait())
                r_offset = offset
                read_offset[tp] = offset
        return batch

    def ack_batch(self, records: Sequence[Any]) -> None:
        """Acknowledge a batch's records: what `Consumer.ack` does for each message, for all
        of them under one lock. Offsets already acknowledged or below the committed offset
        are skipped, as Faust skips them.

        A fetch holds each partition's records together, in offset order: the bookkeeping
        is done per run of records of one partition (~0.1 µs a record, not ~1 µs)."""
        with ack_lock:
            committed = self._committed_offset
            acked_index = self._acked_index
            acked = self._acked
            count = 0
            for (topic, partition), run in groupby(records, _TOPIC_PARTITION):
                tp = TP(topic, partition)
                floor = committed[tp]
                index = acked_index[tp]
                offsets = [record.offset for record in run]
                if floor is not None:
                    offsets = [offset for offset in offsets if offset >= floor]
                new = [offset for offset in dict.fromkeys(offsets) if offset not in index]
                index.update(new)
                acked[tp].extend(new)
                count += len(new)
            self._n_acked += count
            notify(self._waiting_for_ack)

    async def wait_empty(self) -> None:
        """Before partitions are given away: every batch in flight confirmed and acked, then
        Faust's own wait (other topics' messages) and commit."""
        handler: BatchHandler = cast(Any, self.app).batch_handler
        await handler.drain()
        await super().wait_empty()


class BatchingTransport(aiokafka_driver.Transport):
    """Faust's aiokafka transport with `BatchingConsumer`."""

    Consumer = BatchingConsumer
