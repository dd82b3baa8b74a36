"""The `Transport` protocol: how encoded messages leave the process.

The client never talks to Kafka directly. `KafkaTransport` delivers with confluent-kafka,
`MemoryTransport` keeps messages in a list (contract tests, `testing.capture_events`). Both
report outcomes the same way: to the `DeliveryListener` given to `start`, or to the `Receipt`
passed with a message (the spool's replay uses receipts to acknowledge records).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from dua_schemas import TransportError

# Called once per message with None when delivered, else the reason it failed.
Receipt = Callable[[str | None], None]


class TransportFull(TransportError):
    """The transport's queue has no room now; the caller may poll and retry, or spool."""


class DeliveryListener(Protocol):
    """Receives the outcome of every message sent without a receipt."""

    def delivered(self, latency_s: float) -> None: ...

    def failed(self, topic: str, key: bytes, value: bytes, reason: str) -> None: ...

    def unavailable(self, reason: str) -> None: ...


class Transport(Protocol):
    """A way to deliver encoded messages; every method is safe to call from any thread."""

    def start(self, listener: DeliveryListener) -> None:
        """Begin; outcomes of receipt-less sends go to `listener` (from `poll`)."""

    def send(self, topic: str, key: bytes, value: bytes, receipt: Receipt | None = None) -> None:
        """Queue one message without blocking; raise `TransportFull` when there is no room."""

    def poll(self, timeout: float) -> None:
        """Serve delivery outcomes, waiting up to `timeout` seconds for the first one."""

    def flush(self, timeout: float) -> int:
        """Wait up to `timeout` s for queued messages; return how many are still queued."""

    def probe(self, timeout: float) -> bool:
        """Whether the destination answers now (used before replaying the spool)."""

    def close(self, timeout: float) -> None:
        """Deliver what it can within `timeout`; report every other message as failed."""
