"""`Replayer`: the client's background thread; serves delivery reports and replays the spool.

While the spool holds records it asks the transport whether Kafka answers (`probe`), then
sends the oldest records in order, a batch at a time, and acknowledges in the spool the ones
Kafka confirmed. A failed batch backs off exponentially (up to `backoff_max_s`) and resumes
from the first unconfirmed record, so a record is re-sent only if a batch partly failed.
"""

from __future__ import annotations

import logging
import threading
import time

from dua_producer.delivery import Delivery
from dua_producer.spool_format import SpoolRecord
from dua_producer.stats import DeliveryStats
from dua_producer.transport import Receipt, TransportFull

log = logging.getLogger("dua_producer.replay")

POLL_S = 0.05
PROBE_TIMEOUT_S = 2.0
FIRST_BACKOFF_S = 0.5


class Replayer:
    """Runs `run` in a daemon thread between `start` and `stop`."""

    def __init__(
        self,
        delivery: Delivery,
        stats: DeliveryStats,
        *,
        batch: int,
        delivery_timeout_s: float,
        backoff_max_s: float,
    ) -> None:
        self._delivery = delivery
        self._stats = stats
        self._batch = batch
        self._wait_s = delivery_timeout_s + 5.0
        self._backoff_max = backoff_max_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run, name="dua-producer-replay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run(self) -> None:
        backoff = FIRST_BACKOFF_S
        next_try = 0.0
        transport = self._delivery.transport
        while not self._stop.is_set():
            try:
                transport.poll(POLL_S)
                self._delivery.spool.sync_if_due()
                if not self._delivery.spooling or time.monotonic() < next_try:
                    continue
                if transport.probe(PROBE_TIMEOUT_S) and self._replay():
                    backoff = FIRST_BACKOFF_S
                    continue
                next_try = time.monotonic() + backoff
                backoff = min(backoff * 2, self._backoff_max)
            except Exception:  # the thread must outlive any surprise; the spool keeps the data
                log.exception("audit replay thread: unexpected error; retrying")
                self._stop.wait(1.0)

    def _replay(self) -> bool:
        """Send spooled records until the spool is empty (True) or a send fails (False)."""
        spool = self._delivery.spool
        total = 0
        while not self._stop.is_set():
            batch = spool.next_batch(self._batch)
            if not batch:
                if self._delivery.leave_spooling():
                    if total:
                        log.info("replayed %d spooled audit events to Kafka", total)
                    return True
                continue
            delivered = self._send(batch)
            spool.settle(batch, delivered)
            self._stats.add_replayed(delivered)
            total += delivered
            if delivered < len(batch):
                log.warning(
                    "replay: %d of %d spooled events not confirmed; retrying later",
                    len(batch) - delivered,
                    len(batch),
                )
                return False
        return False

    def _send(self, batch: list[SpoolRecord]) -> int:
        """How many leading records of `batch` Kafka confirmed."""
        outcome = _BatchOutcome(len(batch))
        transport = self._delivery.transport
        for index, record in enumerate(batch):
            while not self._stop.is_set():
                try:
                    transport.send(record.topic, record.key, record.value, outcome.receipt(index))
                    break
                except TransportFull:
                    transport.poll(POLL_S)
        deadline = time.monotonic() + self._wait_s
        while outcome.waiting and time.monotonic() < deadline and not self._stop.is_set():
            transport.poll(POLL_S)
            self._delivery.spool.sync_if_due()
        return outcome.confirmed_prefix()


class _BatchOutcome:
    """Outcomes of one replay batch, filled in by receipts."""

    __slots__ = ("errors", "waiting")

    def __init__(self, size: int) -> None:
        self.errors: list[str | None] = [_WAITING] * size
        self.waiting = size

    def receipt(self, index: int) -> Receipt:
        def record(error: str | None) -> None:
            if self.errors[index] is _WAITING:
                self.waiting -= 1
            self.errors[index] = error

        return record

    def confirmed_prefix(self) -> int:
        for index, error in enumerate(self.errors):
            if error is not None:
                return index
        return len(self.errors)


_WAITING = "not confirmed yet"
