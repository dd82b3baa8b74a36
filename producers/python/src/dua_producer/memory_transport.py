"""`MemoryTransport`: a `Transport` that keeps messages in a list, for tests without Kafka.

It can be told to be unreachable (`available = False`: queued messages fail at the next poll,
as they would on a message timeout) or full (`capacity`), so the spool and replay logic is
tested against the same protocol the Kafka transport implements.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from dua_producer.transport import DeliveryListener, Receipt, TransportFull


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One delivered message, as a consumer would read it."""

    topic: str
    key: bytes
    value: bytes


class MemoryTransport:
    """Delivers into `messages` at once while `available`; otherwise fails at the next poll."""

    def __init__(self, *, capacity: int | None = None) -> None:
        self.messages: list[SentMessage] = []
        self.available = True
        self.capacity = capacity  # most messages waiting at once; None: unbounded
        self._listener: DeliveryListener | None = None
        self._lock = threading.Lock()
        # Outcomes not yet reported: (message, receipt, delivered?)
        self._reports: deque[tuple[SentMessage, Receipt | None, bool]] = deque()
        self._waiting = 0

    def start(self, listener: DeliveryListener) -> None:
        self._listener = listener

    def send(self, topic: str, key: bytes, value: bytes, receipt: Receipt | None = None) -> None:
        message = SentMessage(topic, key, value)
        with self._lock:
            if self.capacity is not None and self._waiting >= self.capacity:
                raise TransportFull("the in-memory transport is full")
            if self.available:
                self.messages.append(message)
            else:
                self._waiting += 1
            self._reports.append((message, receipt, self.available))

    def poll(self, timeout: float) -> None:
        with self._lock:
            reports = list(self._reports)
            self._reports.clear()
            self._waiting = 0
        if not reports and timeout > 0:
            time.sleep(min(timeout, 0.01))
        listener = self._listener
        for message, receipt, delivered in reports:
            reason = None if delivered else "destination unavailable"
            if receipt is not None:
                receipt(reason)
            elif listener is None:
                continue
            elif reason is None:
                listener.delivered(0.0)
            else:
                listener.failed(message.topic, message.key, message.value, reason)

    def flush(self, timeout: float) -> int:  # noqa: ARG002 - nothing to wait for in memory
        self.poll(0)
        return 0

    def probe(self, timeout: float) -> bool:  # noqa: ARG002
        return self.available

    def close(self, timeout: float) -> None:
        self.flush(timeout)
