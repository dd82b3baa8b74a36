"""The batching sink: consume → decode → per-partition batch → write → commit.

Offsets are committed only after the rows of their range are in ClickHouse. While ClickHouse is
unavailable the sink keeps what it holds, pauses its partitions (memory stays bounded), backs
off, and retries the same segments; nothing is committed meanwhile. Writes run on a thread of
their own (`write_behind.py`), one at a time, while the next messages are read.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from confluent_kafka import KafkaException, TopicPartition

from dua_schemas import TransportError
from dua_sink.audit_store import AuditStore
from dua_sink.batching import Member, OffsetRange, PartitionBuffer, Ready, Segment
from dua_sink.errors import ClickHouseUnavailable
from dua_sink.metrics import SinkMetrics
from dua_sink.replays import plan_replays, replayed_writes
from dua_sink.routing import Pending, RecordRouter
from dua_sink.row_mapping import Source
from dua_sink.sink_config import CONSUME_BATCH, SinkConfig
from dua_sink.write_behind import WriteBehind

log = logging.getLogger("dua_sink.sink")
# The loop wakes at least this often to notice a stop request.
MAX_WAIT_S = 0.5
# While a write is in flight the loop looks for its end this often (when nothing is read), so
# its offsets are committed and the next write starts soon after.
COLLECT_POLL_S = 0.01
# While reading a backlog (each fetch full), what is there is written every this many flush
# intervals instead of every one: inserts as large as a 1 s interval made them.
BACKLOG_FLUSH_FACTOR = 4
# A replayed write waits this long at most for its ranges still to be read here (`_replays`),
# then the ranges it has are replayed one by one.
REPLAY_WAIT_S = 10.0
PartitionKey = tuple[str, int]


class KafkaConsumer(Protocol):
    """The part of confluent-kafka's Consumer the sink uses."""

    def subscribe(self, topics: list[str], **callbacks: Any) -> None: ...
    def consume(self, num_messages: int, timeout: float) -> list[Any]: ...
    def commit(self, *, offsets: list[Any], asynchronous: bool) -> Any: ...
    def pause(self, partitions: list[Any]) -> None: ...
    def resume(self, partitions: list[Any]) -> None: ...
    def assignment(self) -> list[Any]: ...
    def position(self, partitions: list[Any]) -> list[Any]: ...
    def get_watermark_offsets(self, partition: Any, *, cached: bool) -> Any: ...
    def close(self) -> None: ...


class BatchingSink:
    """Runs one consumer until `stop` is set, then flushes, commits and closes it."""

    __slots__ = (
        "_buffers",
        "_clock",
        "_committed",
        "_config",
        "_consumer",
        "_failures",
        "_members",
        "_metrics",
        "_paused",
        "_replay_waits",
        "_retry_at",
        "_router",
        "_store",
        "_writer",
    )

    def __init__(
        self,
        consumer: KafkaConsumer,
        router: RecordRouter,
        store: AuditStore,
        config: SinkConfig,
        *,
        metrics: SinkMetrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._consumer = consumer
        self._router = router
        self._store = store
        self._config = config
        self._metrics = metrics
        self._clock = clock
        self._buffers: dict[PartitionKey, PartitionBuffer] = {}
        self._committed: dict[PartitionKey, int] = {}
        self._failures = 0
        # The ranges of each write whose segments may be replayed (`_replays`).
        self._members: dict[str, frozenset[Member]] = {}
        self._replay_waits: dict[str, float] = {}  # since when a write's replay waits
        self._retry_at: float | None = None
        self._paused = False
        self._writer = WriteBehind(store, self._built)

    # -- the loop ------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Consume and write until `stop` is set; then drain what can be written."""
        self._consumer.subscribe(
            self._config.topics.names(),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        interval = self._config.flush_interval_s
        next_flush = self._clock() + interval
        last_flush = self._clock()
        try:
            while not stop.is_set():
                wake = next_flush if self._retry_at is None else self._retry_at
                timeout = min(max(wake - self._clock(), 0.0), MAX_WAIT_S)
                if self._writer.busy:
                    # A flush falls due while a write is in flight: waiting for messages a
                    # little is cheaper than spinning on the core chDB is writing with.
                    timeout = COLLECT_POLL_S
                messages = self._consumer.consume(CONSUME_BATCH, timeout)
                for message in messages:
                    self._accept(message)
                # A full fetch means a backlog: larger, fewer inserts then, latency is lost anyway.
                behind = len(messages) >= CONSUME_BATCH
                if self._writer.finished:
                    self._collect()
                if self._writer.busy:  # read on while it writes; flush once it is done
                    self._apply_pause()
                    continue
                now = self._clock()
                if self._retry_at is not None:
                    if now >= self._retry_at:
                        self._flush(due=True)
                        next_flush, last_flush = now + interval, now
                elif now >= next_flush and (
                    not behind or now - last_flush >= interval * BACKLOG_FLUSH_FACTOR
                ):
                    self._flush(due=True)
                    self._report_lag()
                    next_flush, last_flush = now + interval, now
                elif self._has_full_batch():
                    self._flush(due=False)
                self._apply_pause()
            self._drain()
        finally:
            self._writer.close()
            self._consumer.close()

    # -- consume & decode ----------------------------------------------------------------
    def _accept(self, message: Any) -> None:
        error = message.error()
        if error is not None:
            if error.fatal():
                raise TransportError(f"sink.consume: fatal Kafka error: {error.str()}")
            log.warning("sink.consume: %s", error.str())
            return
        key = (message.topic(), message.partition())
        buffer = self._buffers.get(key)
        if buffer is None:  # a message of a partition revoked a moment ago
            return
        payload = message.value()
        if self._router.defers(key[0]):
            # Its row is built with its segment's, natively (`RecordRouter.route_pending`).
            kind, millis = message.timestamp()
            pending = Pending(payload, message.key(), millis if kind and millis > 0 else 0)
            buffer.defer(message.offset(), pending, zlib.crc32(payload or b""))
            return
        source = Source(key[0], key[1], message.offset(), _message_time(message))
        routed = self._router.route(source, payload, message.key())
        if routed.rejected is not None:
            self._metrics.rejected(routed.rejected)
            # Per message at debug level: a flood of bad input must not flood the log too;
            # dua_sink_rejected_total and the rejected_events table carry the counts.
            log.debug(
                "sink.decode: rejected %s/%d@%d: %s",
                source.topic,
                source.partition,
                source.offset,
                routed.rejected,
            )
        buffer.add(source.offset, routed, zlib.crc32(payload or b""))

    # -- write & commit ------------------------------------------------------------------
    def _flush(
        self, *, due: bool, only: Iterable[PartitionKey] | None = None, wait: bool = False
    ) -> bool:
        """Start writing every ready segment (a write in flight is collected first); with
        `wait`, also wait for it and commit. False when ClickHouse failed."""
        if self._writer.busy and not self._collect():
            return False
        keys = set(self._buffers if only is None else only)
        buffers = [b for k, b in self._buffers.items() if k in keys and len(b)]
        cut: list[tuple[PartitionBuffer, list[Segment]]] = []
        try:
            for buffer in buffers:
                if buffer.plan is None:
                    buffer.plan = self._load_plan(buffer)
                segments = buffer.cut(self._config.batch_max_rows, due=due)
                if segments:
                    cut.append((buffer, segments))
            ready, whole = self._replays(cut)
        except ClickHouseUnavailable as exc:
            self._failed(exc)
            return False
        if not ready:
            return True
        self._writer.submit(ready, whole)
        return self._collect() if wait else True

    def _replays(self, ready: Ready) -> tuple[Ready, frozenset[str]]:
        """`ready` without the partitions that wait, and the writes to replay whole
        (`replays.plan_replays`): a write waits for its ranges still to be read here at most
        `REPLAY_WAIT_S`."""
        unknown = [w for w in replayed_writes(ready) if w not in self._members]
        if unknown:
            self._members.update(self._store.write_members(unknown))
        now = self._clock()

        def waited_out(write_id: str) -> bool:
            return now - self._replay_waits.setdefault(write_id, now) >= REPLAY_WAIT_S

        return plan_replays(ready, self._members, self._may_come, waited_out)

    def _may_come(self, member: Member) -> bool:
        """Whether a planned range not ready yet may still be read here."""
        topic, partition, _, last = member
        buffer = self._buffers.get((topic, partition))
        return buffer is not None and (not buffer.items or buffer.items[0].offset <= last)

    def _collect(self) -> bool:
        """Take the outcome of the write in flight (waiting for it): forget what it stored,
        commit it, and back off if it failed. False when ClickHouse failed."""
        outcome = self._writer.collect()
        if outcome is None:
            return True
        if outcome.planned:
            self._planned(outcome.ready, outcome.write_id)
            if outcome.error is not None:  # its retry replays it whole: its ranges are these
                self._members[outcome.write_id] = frozenset(
                    s.member for _, segments in outcome.ready for s in segments if not s.planned
                )
        commits: dict[PartitionKey, int] = {}
        for buffer, segment, tables in outcome.stored:
            self._members.pop(segment.write_id, None)
            self._replay_waits.pop(segment.write_id, None)
            for table, rows in tables.items():
                self._metrics.inserted(table, rows)
            for reason in segment.rejected:
                self._metrics.rejected(reason)
            buffer.written(segment)
            commits[(buffer.topic, buffer.partition)] = segment.commit_offset
        self._commit(commits)
        self._metrics.buffered(self._buffered_rows())
        if outcome.error is not None:
            self._failed(outcome.error)
            return False
        if self._failures:
            log.info("sink.write: ClickHouse is back after %d failed attempts", self._failures)
        self._failures = 0
        self._retry_at = None
        return True

    def _built(self, segment: Segment) -> Segment:
        """The segment with the rows of its pending messages built (step `sink.decode`); run
        on the writer's thread, it only reads the router."""
        if not segment.pending:
            return segment
        block, routed = self._router.route_pending(
            segment.topic, segment.partition, segment.pending
        )
        for item in routed:
            if item.rejected is not None:
                log.debug(
                    "sink.decode: rejected %s/%d: %s",
                    segment.topic,
                    segment.partition,
                    item.rejected,
                )
        return segment.with_rows(block, routed)

    def _load_plan(self, buffer: PartitionBuffer) -> list[OffsetRange]:
        plan = self._store.planned_ranges(buffer.topic, buffer.partition, buffer.items[0].offset)
        if plan:
            log.info(
                "sink.write: %s[%d] resumes %d planned ranges from offset %d; "
                "what their writes stored already is not stored again",
                buffer.topic,
                buffer.partition,
                len(plan),
                plan[0].first,
            )
        return plan

    @staticmethod
    def _planned(ready: Ready, write_id: str) -> None:
        """The new ranges of `ready` are recorded: they are the plan now, so a retry must cut
        exactly them again, and ask what their write stored (`AuditStore.write`)."""
        for buffer, segments in ready:
            assert buffer.plan is not None
            known = {(r.first, r.last) for r in buffer.plan}
            buffer.plan.extend(
                OffsetRange(s.first_offset, s.last_offset, s.digest, write_id)
                for s in segments
                if not s.planned and (s.first_offset, s.last_offset) not in known
            )
            buffer.plan.sort(key=lambda r: r.first)

    def _commit(self, commits: dict[PartitionKey, int]) -> None:
        if not commits:
            return
        offsets = [TopicPartition(t, p, o) for (t, p), o in sorted(commits.items())]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # The rows are stored; a redelivery of this range is dropped by its token.
            log.warning("sink.commit: commit failed, the range will be read again: %s", exc)
            return
        self._committed.update(commits)
        self._metrics.committed()

    def _failed(self, exc: ClickHouseUnavailable) -> None:
        self._failures += 1
        delay = self._config.backoff.delay(self._failures)
        self._retry_at = self._clock() + delay
        self._metrics.insert_failed(exc.table or "sink_batches")
        log.warning(
            "sink.write: %s; attempt %d failed, retrying in %.1f s with partitions paused",
            exc,
            self._failures,
            delay,
        )

    # -- flow control --------------------------------------------------------------------
    def _buffered_rows(self) -> int:
        return sum(len(buffer) for buffer in self._buffers.values())

    def _has_full_batch(self) -> bool:
        limit = self._config.batch_max_rows
        return any(len(buffer) >= limit for buffer in self._buffers.values())

    def _apply_pause(self) -> None:
        should = (
            self._retry_at is not None or self._buffered_rows() >= self._config.max_buffered_rows
        )
        if should == self._paused:
            return
        assignment = self._consumer.assignment()
        if should:
            self._consumer.pause(assignment)
        else:
            self._consumer.resume(assignment)
        self._paused = should
        self._metrics.paused(should)

    def _report_lag(self) -> None:
        for tp in self._consumer.assignment():
            low_high = self._consumer.get_watermark_offsets(tp, cached=True)
            if not low_high or low_high[1] < 0:
                continue
            key = (tp.topic, tp.partition)
            done = self._committed.get(key)
            if done is None:
                done = self._consumer.position([tp])[0].offset
            if done is not None and done >= 0:
                self._metrics.lag(tp.topic, tp.partition, max(int(low_high[1]) - done, 0))

    # -- rebalancing & shutdown ----------------------------------------------------------
    def _on_assign(self, _consumer: Any, partitions: list[Any]) -> None:
        for tp in partitions:
            self._buffers[(tp.topic, tp.partition)] = PartitionBuffer(tp.topic, tp.partition)
        # A fresh assignment starts unpaused; the loop pauses it again if it must.
        self._paused = False
        log.info("sink.consume: assigned %s", _names(partitions))

    def _on_revoke(self, _consumer: Any, partitions: list[Any]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        if self._collect() and self._retry_at is None:
            # Hand over cleanly: what is ready is written and committed before another
            # consumer takes the partitions (it would only re-read and deduplicate it).
            self._flush(due=True, only=keys, wait=True)
        self._forget(keys)
        log.info("sink.consume: revoked %s", _names(partitions))

    def _on_lost(self, _consumer: Any, partitions: list[Any]) -> None:
        self._collect()  # what it stored is stored; committing the lost partitions fails
        self._forget([(tp.topic, tp.partition) for tp in partitions])
        log.warning(
            "sink.consume: lost %s; their unwritten rows will be re-read", _names(partitions)
        )

    def _forget(self, keys: Iterable[PartitionKey]) -> None:
        for key in keys:
            self._buffers.pop(key, None)
            self._committed.pop(key, None)
            self._metrics.forget_partition(*key)
        self._metrics.buffered(self._buffered_rows())

    def _drain(self) -> None:
        """On stop: write and commit what can be, retrying within the grace period."""
        deadline = self._clock() + self._config.shutdown_grace_s
        while not self._flush(due=True, wait=True):
            assert self._retry_at is not None
            if self._retry_at > deadline:
                log.error(
                    "sink.write: stopping with %d rows unwritten and uncommitted; "
                    "they will be read again on the next start",
                    self._buffered_rows(),
                )
                return
            time.sleep(max(self._retry_at - self._clock(), 0.0))


def _message_time(message: Any) -> datetime:
    """The message's Kafka timestamp (deterministic on redelivery), else now."""
    kind, millis = message.timestamp()
    if kind and millis and millis > 0:
        return datetime.fromtimestamp(millis / 1000, UTC)
    return datetime.now(UTC)


def _names(partitions: Sequence[Any]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"
