"""The Kafka shell of the notifier: read `dua.violations`, feed the dispatcher, commit.

Offsets are committed by hand and only up to the first record not yet settled (posted, or
deliberately skipped), so a crash re-reads every violation whose message was not sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Final

from confluent_kafka import Consumer, KafkaException, TopicPartition

from dua_schemas import VIOLATION, UndecodablePayload, WireCodec
from dua_stream.notifier.dispatcher import Dispatcher
from dua_stream.notifier.grouping import Position

log = logging.getLogger(__name__)

STEP_ID: Final = "notify"
# How long one poll may block; also the latency of noticing `stop`.
POLL_S: Final = 0.5
BATCH: Final = 500
# After the first record of a fetch, how long the rest of its burst is gathered.
COALESCE_S: Final = 0.1
# Records held in open groups before the partitions are paused (backpressure).
MAX_PENDING: Final = 100_000


class ViolationConsumer:
    """Consumes Violation records and drives a `Dispatcher` until `stop` is set."""

    __slots__ = ("_codec", "_consumer", "dispatcher", "max_pending", "topic")

    def __init__(
        self,
        *,
        bootstrap: str,
        topic: str,
        group: str,
        dispatcher: Dispatcher,
        codec: WireCodec,
        max_pending: int = MAX_PENDING,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        self.topic = topic
        self.dispatcher = dispatcher
        self.max_pending = max_pending
        self._codec = codec
        config: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            # A new group starts from the oldest retained violation: none is left unannounced.
            "auto.offset.reset": "earliest",
            "error_cb": self._on_error,
        }
        config.update(extra_config or {})
        self._consumer = Consumer(config)

    def run(self, stop: threading.Event, on_poll: Callable[[], None] | None = None) -> None:
        """Consume until `stop` is set, then post what is pending, commit and leave the group."""
        self._consumer.subscribe(
            [self.topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        try:
            while not stop.is_set():
                due_in = self.dispatcher.next_due_in()
                timeout = POLL_S if due_in is None else max(0.0, min(POLL_S, due_in))
                for message in self._fetch(timeout):
                    self._handle(message)
                self.dispatcher.flush()
                self._commit()
                self._apply_backpressure()
                if on_poll is not None:
                    on_poll()
        finally:
            # Best effort: what cannot be posted now stays uncommitted and is read again.
            self.dispatcher.flush(force=True)
            self._commit()
            self._consumer.close()

    def _fetch(self, timeout: float) -> list[Any]:
        """The records there are, waiting at most `timeout` for the first. `consume(n, t)`
        alone waits out `t` unless `n` records come: a critical violation's immediate post up
        to `POLL_S` late. `poll` returns on the first; the records of the same burst (other
        partitions' fetches a moment behind) are gathered for `COALESCE_S` more, so a burst
        is still one group's post."""
        first = self._consumer.poll(timeout)
        if first is None:
            return []
        return [first, *self._consumer.consume(num_messages=BATCH - 1, timeout=COALESCE_S)]

    def _handle(self, message: Any) -> None:
        if message.error() is not None:
            log.warning("[%s] consumer error: %s", STEP_ID, message.error())
            return
        position = Position(message.topic(), message.partition(), message.offset())
        try:
            decoded = self._codec.decode(message.value() or b"", expected=VIOLATION)
        except UndecodablePayload as exc:
            log.warning(
                "[%s] skipped undecodable record at %s[%d]@%d: %s",
                STEP_ID,
                position.topic,
                position.partition,
                position.offset,
                exc.reason,
            )
            self.dispatcher.skip(position)
            return
        self.dispatcher.accept(position, decoded.record)

    def _commit(self) -> None:
        moves = self.dispatcher.committable()
        if not moves:
            return
        offsets = [
            TopicPartition(topic, partition, offset) for (topic, partition), offset in moves.items()
        ]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # Not fatal: the same (or a later) position is committed on the next round.
            log.warning("[%s] commit failed, will retry: %s", STEP_ID, exc)
            return
        self.dispatcher.committed(moves)

    def _apply_backpressure(self) -> None:
        assignment = self._consumer.assignment()
        if not assignment:
            return
        if self.dispatcher.pending >= self.max_pending:
            self._consumer.pause(assignment)
        elif self.dispatcher.pending < self.max_pending // 2:
            self._consumer.resume(assignment)

    # -- rebalance callbacks (run inside consume()) --------------------------------------
    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        log.info("[%s] assigned %s", STEP_ID, [(p.topic, p.partition) for p in partitions])

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        # Post what is open now rather than let the next owner announce it a second time.
        self.dispatcher.flush(force=True)
        self._commit()
        self.dispatcher.forget((p.topic, p.partition) for p in partitions)

    def _on_lost(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        # Lost, not revoked: committing is no longer allowed; the next owner re-reads them.
        self.dispatcher.forget((p.topic, p.partition) for p in partitions)

    @staticmethod
    def _on_error(error: Any) -> None:
        log.warning("[%s] kafka: %s", STEP_ID, error)
