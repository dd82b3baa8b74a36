"""`Delivery`: hands encoded messages to the transport, or to the spool when it cannot take them.

Two modes. *Live*: messages go to the transport; one it cannot take within `max_block_s`,
or whose delivery fails, goes to the spool and switches to *spooling*. Spooling: messages go
straight to the spool, behind the ones already there, until the replay thread has emptied it
(Kafka answers again); then live again. Nothing here raises for a delivery problem: a full
spool drops the event, counts it and says so in the log.
"""

from __future__ import annotations

import logging
import threading
import time

from dua_producer.spool import Spool
from dua_producer.stats import DeliveryStats
from dua_producer.transport import Transport, TransportFull

log = logging.getLogger("dua_producer.delivery")

DROP_LOG_INTERVAL_S = 10.0


class Delivery:
    """Routes messages between the transport and the spool; the transport's listener."""

    def __init__(
        self, transport: Transport, spool: Spool, stats: DeliveryStats, *, max_block_s: float
    ) -> None:
        self.transport = transport
        self.spool = spool
        self._stats = stats
        self._max_block = max_block_s
        self._mode = threading.Lock()
        # Left-over records from an earlier run go first: start by spooling behind them.
        self._spooling = spool.pending > 0
        self._drops_unlogged = 0
        self._last_drop_log = 0.0

    @property
    def spooling(self) -> bool:
        return self._spooling

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        """Deliver one message; never raises for delivery problems, never blocks past the bound."""
        if self._spooling:
            with self._mode:
                if self._spooling:
                    self._to_spool(topic, key, value)
                    return
        try:
            self.transport.send(topic, key, value)
        except TransportFull:
            self._send_within_bound(topic, key, value)

    def _send_within_bound(self, topic: str, key: bytes, value: bytes) -> None:
        deadline = time.monotonic() + self._max_block
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.transport.poll(min(remaining, 0.001))  # frees room as deliveries complete
            try:
                self.transport.send(topic, key, value)
            except TransportFull:
                continue
            return
        self._enter_spooling(f"the producer queue stayed full for {self._max_block * 1000:.0f} ms")
        self._to_spool(topic, key, value)

    # -- DeliveryListener -------------------------------------------------------------------
    def delivered(self, latency_s: float) -> None:
        self._stats.add_delivered(latency_s)

    def failed(self, topic: str, key: bytes, value: bytes, reason: str) -> None:
        self._stats.add_failed()
        self._enter_spooling(reason)
        self._to_spool(topic, key, value)

    def unavailable(self, reason: str) -> None:
        self._enter_spooling(reason)

    # -- modes ------------------------------------------------------------------------------
    def _enter_spooling(self, reason: str) -> None:
        if self._spooling:
            return
        with self._mode:
            if self._spooling:
                return
            self._spooling = True
        log.warning(
            "audit events go to the spool in %s until Kafka takes them again: %s",
            self.spool.directory,
            reason,
        )

    def leave_spooling(self) -> bool:
        """Back to live if the spool is empty (called by the replay thread); True if live."""
        with self._mode:
            if self.spool.pending == 0:
                if self._spooling:
                    log.info("the audit spool is empty: events go to Kafka directly again")
                self._spooling = False
            return not self._spooling

    def _to_spool(self, topic: str, key: bytes, value: bytes) -> None:
        if self.spool.append(topic, key, value):
            self._stats.add_spooled()
            return
        self._stats.add_dropped()
        self._drops_unlogged += 1
        now = time.monotonic()
        if now - self._last_drop_log >= DROP_LOG_INTERVAL_S:
            log.error(
                "DROPPED %d audit events: the spool in %s is full (%d bytes) or unwritable "
                "and Kafka does not take them",
                self._drops_unlogged,
                self.spool.directory,
                self.spool.size_bytes,
            )
            self._drops_unlogged = 0
            self._last_drop_log = now
