"""The processor's Prometheus metrics: every name here, typed, in its own registry."""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Final, Literal, cast

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

MetricName = Literal[
    "dua_processor_events_total",
    "dua_processor_violations_total",
    "dua_processor_rejected_total",
    "dua_processor_consent_changes_total",
    "dua_processor_latency_seconds",
    "dua_processor_consumer_lag",
    "dua_processor_policy_info",
    "dua_processor_policy_reloads_total",
    "dua_processor_batch_size",
    "dua_processor_state_expired_total",
    "dua_processor_state_entries",
    "dua_processor_clock_ahead_total",
    "dua_processor_native_events_total",
    "dua_processor_late_violations_total",
    "dua_processor_consent_delay_seconds",
    "dua_processor_contradicted_violations_total",
]

EVENTS: Final[MetricName] = "dua_processor_events_total"
VIOLATIONS: Final[MetricName] = "dua_processor_violations_total"
REJECTED: Final[MetricName] = "dua_processor_rejected_total"
CONSENT_CHANGES: Final[MetricName] = "dua_processor_consent_changes_total"
LATENCY: Final[MetricName] = "dua_processor_latency_seconds"
LAG: Final[MetricName] = "dua_processor_consumer_lag"
POLICY_INFO: Final[MetricName] = "dua_processor_policy_info"
POLICY_RELOADS: Final[MetricName] = "dua_processor_policy_reloads_total"
BATCH_SIZE: Final[MetricName] = "dua_processor_batch_size"
STATE_EXPIRED: Final[MetricName] = "dua_processor_state_expired_total"
STATE_ENTRIES: Final[MetricName] = "dua_processor_state_entries"
CLOCK_AHEAD: Final[MetricName] = "dua_processor_clock_ahead_total"
NATIVE_EVENTS: Final[MetricName] = "dua_processor_native_events_total"
LATE_VIOLATIONS: Final[MetricName] = "dua_processor_late_violations_total"
CONSENT_DELAY: Final[MetricName] = "dua_processor_consent_delay_seconds"
CONTRADICTED_VIOLATIONS: Final[MetricName] = "dua_processor_contradicted_violations_total"

# prometheus_client appends `_total` to counters itself: declare them without it.
_LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_BATCH_BUCKETS: Final = (1, 10, 100, 500, 1000, 2000, 5000, 10000)
# Fine below a second: the consent grace is chosen from this distribution (stream_processors
# README, "Choosing the grace"), and an operator compares it with the grace in force.
_CONSENT_DELAY_BUCKETS: Final = (
    0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75,
    1, 1.5, 2, 5, 10, 60, 300, 3600,
)  # fmt: skip


# the `le` label text prometheus_client gives a bound (untyped there)
_le_label = cast(Callable[[float], str], floatToGoString)


def _counter_name(name: MetricName) -> str:
    return name.removesuffix("_total")


class BatchHistogram(Collector):
    """A histogram filled a batch of values at a time: the same series as prometheus_client's
    `Histogram` (`_bucket` with the same `le` labels, `_count`, `_sum`), one lock per batch.

    `Histogram.observe` takes a lock and walks the buckets in Python for every value, which
    was ~4 % of a worker's time at one observation per event.
    """

    def __init__(
        self,
        name: str,
        documentation: str,
        buckets: Sequence[float],
        registry: CollectorRegistry,
    ) -> None:
        self._name = name
        self._documentation = documentation
        self._bounds = tuple(float(b) for b in buckets)
        self._labels = [_le_label(b) for b in self._bounds]
        self._counts = [0] * (len(self._bounds) + 1)  # the last one: above every bound
        self._sum = 0.0
        self._lock = threading.Lock()
        registry.register(self)

    def observe_many(self, values: Iterable[float]) -> None:
        """Count each value in the first bucket whose bound it does not exceed."""
        self.observe_sorted(sorted(values))

    def observe_durations(self, seconds: Iterable[float]) -> None:
        """`observe_many` of durations measured between two clocks: one that comes out
        negative (a clock stepped back) counts as 0."""
        ordered = sorted(seconds)
        negative = bisect_left(ordered, 0.0)
        if negative:
            ordered[:negative] = [0.0] * negative
        self.observe_sorted(ordered)

    def observe_sorted(self, ordered: Sequence[float]) -> None:
        """`observe_many` of values in ascending order: one bisection per bound, not per value
        (a batch's thousands of latencies cost ~0.1 µs each instead of ~0.4 µs)."""
        counts = []
        below = 0
        for bound in self._bounds:
            upto = bisect_right(ordered, bound)
            counts.append(upto - below)
            below = upto
        counts.append(len(ordered) - below)
        total = sum(ordered)
        with self._lock:
            self._counts = [a + b for a, b in zip(self._counts, counts, strict=True)]
            self._sum += total

    def describe(self) -> Iterator[HistogramMetricFamily]:
        yield HistogramMetricFamily(self._name, self._documentation)

    def collect(self) -> Iterator[HistogramMetricFamily]:
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative = 0
        buckets: list[tuple[str, float]] = []
        for label, count in zip([*self._labels, "+Inf"], counts, strict=True):
            cumulative += count
            buckets.append((label, cumulative))
        yield HistogramMetricFamily(
            self._name, self._documentation, buckets=buckets, sum_value=total
        )


class ProcessorMetrics:
    """The metrics of one worker; updated once per batch, not once per event."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events = Counter(
            _counter_name(EVENTS),
            "Access events classified, by service and purpose category.",
            ["service", "purpose_category"],
            registry=r,
        )
        self.violations = Counter(
            _counter_name(VIOLATIONS),
            "Violations found, by rule, severity, mode (active or shadow) and service.",
            ["rule", "severity", "mode", "service"],
            registry=r,
        )
        self.rejected = Counter(
            _counter_name(REJECTED),
            "Inputs sent to the DLQ, by reason.",
            ["reason"],
            registry=r,
        )
        self.consent_changes = Counter(
            _counter_name(CONSENT_CHANGES),
            "Consent changes applied to the consent table.",
            registry=r,
        )
        self.latency = BatchHistogram(
            LATENCY,
            "From an event's occurred_at to its tagged output confirmed by Kafka.",
            _LATENCY_BUCKETS,
            r,
        )
        self.lag = Gauge(
            LAG,
            "Messages not yet processed, by topic and partition.",
            ["topic", "partition"],
            registry=r,
        )
        self.policy_info = Gauge(
            POLICY_INFO, "1 for the policy version in force.", ["version"], registry=r
        )
        self.policy_reloads = Counter(
            _counter_name(POLICY_RELOADS),
            "Policy reload attempts, by outcome (loaded, refused).",
            ["outcome"],
            registry=r,
        )
        self.batch_size = Histogram(
            BATCH_SIZE, "Messages handled per batch.", buckets=_BATCH_BUCKETS, registry=r
        )
        self.state_expired = Counter(
            _counter_name(STATE_EXPIRED),
            "Re-identification entries deleted after their window, and accesses kept for a "
            "consent re-check deleted after the retention.",
            registry=r,
        )
        self.state_entries = Gauge(
            STATE_ENTRIES,
            "Entries this worker keeps in each table (its partitions only), by table.",
            ["table"],
            registry=r,
        )
        self.clock_ahead = Counter(
            _counter_name(CLOCK_AHEAD),
            "Access events dated more than 5 minutes ahead of the worker's clock, by service "
            "(that service's clock is wrong; their time does not advance state expiry).",
            ["service"],
            registry=r,
        )
        self.native_events = Counter(
            _counter_name(NATIVE_EVENTS),
            "Access events processed on the native path (the others took the Python path: "
            "first sights of a shape, inputs it leaves to Python, or no native build).",
            registry=r,
        )
        self.late_violations = Counter(
            _counter_name(LATE_VIOLATIONS),
            "Violations found after the consent grace by a consent change that arrived late "
            "(Violation.detected_late_ms set), by rule.",
            ["rule"],
            registry=r,
        )
        self.consent_delay = BatchHistogram(
            CONSENT_DELAY,
            "From a consent change's Kafka timestamp to the fetch that applies it: raw records "
            "wait DUA_PROCESSOR_CONSENT_GRACE_MS for changes this late; later ones are found "
            "by the re-check and marked late.",
            _CONSENT_DELAY_BUCKETS,
            r,
        )
        self.contradicted_violations = Counter(
            _counter_name(CONTRADICTED_VIOLATIONS),
            "Violations of a consent-missing rule (rule 16) contradicted by a consent change "
            "that arrived after the access was judged and grants the consent as of the "
            "access's time, by rule (not retracted: the processor log names each by id).",
            ["rule"],
            registry=r,
        )
        self._policy_version: str | None = None

    def record_batch(
        self,
        events: Mapping[tuple[str, str], int],
        violations: Mapping[tuple[str, str, str, str], int],
        rejected: Mapping[str, int],
        consent_changes: int,
        size: int,
        *,
        clock_ahead: Mapping[str, int] | None = None,
        native: int = 0,
        late: Mapping[str, int] | None = None,
        contradicted: Mapping[str, int] | None = None,
    ) -> None:
        """Add one confirmed batch's tallies."""
        for (service, category), count in events.items():
            self.events.labels(service, category).inc(count)
        for (rule, severity, mode, service), count in violations.items():
            self.violations.labels(rule, severity, mode, service).inc(count)
        for reason, count in rejected.items():
            self.rejected.labels(reason).inc(count)
        if consent_changes:
            self.consent_changes.inc(consent_changes)
        for service, count in (clock_ahead or {}).items():
            self.clock_ahead.labels(service).inc(count)
        if native:
            self.native_events.inc(native)
        for rule, count in (late or {}).items():
            self.late_violations.labels(rule).inc(count)
        for rule, count in (contradicted or {}).items():
            self.contradicted_violations.labels(rule).inc(count)
        self.batch_size.observe(size)

    def observe_latencies(self, seconds: Iterable[float]) -> None:
        """One confirmed batch's latencies (a clock step back counts as 0)."""
        self.latency.observe_durations(seconds)

    def observe_consent_delays(self, seconds: Iterable[float]) -> None:
        """One fetch's consent delays (a clock step back counts as 0)."""
        self.consent_delay.observe_durations(seconds)

    def set_policy(self, version: str) -> None:
        """Mark `version` as the one in force (and the previous one as not)."""
        if self._policy_version is not None and self._policy_version != version:
            self.policy_info.remove(self._policy_version)
        self.policy_info.labels(version).set(1)
        self._policy_version = version

    def set_lag(self, lags: Mapping[tuple[str, int], int]) -> None:
        for (topic, partition), lag in lags.items():
            self.lag.labels(topic, str(partition)).set(lag)

    def set_state_entries(self, sizes: Mapping[str, int]) -> None:
        for table, entries in sizes.items():
            self.state_entries.labels(table).set(entries)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve `/metrics` on `host:port` from a daemon thread."""
        start_http_server(port, addr=host, registry=self.registry)
