"""`DeliveryStats`: the client's counters, kept as plain numbers on the hot path.

Prometheus is optional; these counts exist either way (`AuditClient.stats()`), and the
exporter in `prometheus` reads them when scraped, so emitting costs no metric-library calls.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass

from dua_producer.metric_names import LATENCY_BUCKETS, Metric


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """The counters at one moment; `latency_buckets` are cumulative, one per bound (+Inf)."""

    emitted: int
    delivered: int
    failed: int
    spooled: int
    replayed: int
    dropped: int
    spool_bytes: int
    spool_pending: int
    in_flight: int
    latency_buckets: tuple[int, ...]
    latency_sum: float

    def value(self, metric: Metric) -> float:
        """A counter's or gauge's value by its metric name."""
        return float(getattr(self, _FIELDS[metric]))


_FIELDS: dict[Metric, str] = {
    Metric.EMITTED: "emitted",
    Metric.DELIVERED: "delivered",
    Metric.FAILED: "failed",
    Metric.SPOOLED: "spooled",
    Metric.REPLAYED: "replayed",
    Metric.DROPPED: "dropped",
    Metric.SPOOL_BYTES: "spool_bytes",
    Metric.SPOOL_PENDING: "spool_pending",
}


class DeliveryStats:
    """Thread-safe counters; `gauges` supplies (spool bytes, spool pending) when read."""

    __slots__ = (
        "_buckets",
        "_emitted",
        "_gauges",
        "_latency_sum",
        "_lock",
        "delivered",
        "dropped",
        "failed",
        "replayed",
        "spooled",
    )

    def __init__(self, gauges: Callable[[], tuple[int, int]] = lambda: (0, 0)) -> None:
        self._lock = threading.Lock()
        self._gauges = gauges
        # Emits come from every thread of the service: a shared lock there would contend
        # with the delivery thread. next() on itertools.count is one atomic C call instead.
        self._emitted = itertools.count()
        self.delivered = self.failed = 0
        self.spooled = self.replayed = self.dropped = 0
        self._buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self._latency_sum = 0.0

    @property
    def emitted(self) -> int:
        # A count object shows its next value only in its repr: "count(42)".
        return int(repr(self._emitted)[6:-1])

    def add_emitted(self) -> None:
        next(self._emitted)

    def add_delivered(self, latency_s: float) -> None:
        with self._lock:
            self.delivered += 1
            self._buckets[bisect.bisect_left(LATENCY_BUCKETS, latency_s)] += 1
            self._latency_sum += latency_s

    def add_replayed(self, count: int) -> None:
        with self._lock:
            self.replayed += count
            self.delivered += count

    def add_failed(self) -> None:
        with self._lock:
            self.failed += 1

    def add_spooled(self) -> None:
        with self._lock:
            self.spooled += 1

    def add_dropped(self) -> None:
        with self._lock:
            self.dropped += 1

    def snapshot(self) -> StatsSnapshot:
        spool_bytes, spool_pending = self._gauges()
        with self._lock:
            cumulative, running = [], 0
            for count in self._buckets:
                running += count
                cumulative.append(running)
            return StatsSnapshot(
                emitted=self.emitted,
                delivered=self.delivered,
                failed=self.failed,
                spooled=self.spooled,
                replayed=self.replayed,
                dropped=self.dropped,
                spool_bytes=spool_bytes,
                spool_pending=spool_pending,
                # Not yet delivered, failed into the spool, or dropped.
                in_flight=max(
                    0, self.emitted - (self.delivered - self.replayed) - self.spooled - self.dropped
                ),
                latency_buckets=tuple(cumulative),
                latency_sum=self._latency_sum,
            )
