"""The notifier's Prometheus metrics, named in one place.

Names are a `Literal`, so a misspelt name fails type-checking; `deploy/prometheus/alerts.yml`
alerts on them, and `tests/unit/deploy` checks that every name the rules use exists.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from prometheus_client import CollectorRegistry, Counter, Gauge

MetricName = Literal[
    "dua_notifier_datamap_drift",
    "dua_notifier_failures_total",
    "dua_notifier_pending_violations",
    "dua_notifier_posted_total",
    "dua_notifier_rate_limited_total",
    "dua_notifier_retries_total",
    "dua_notifier_violations_total",
    "dua_notifier_volume_anomalies",
]
METRIC_NAMES: Final[tuple[MetricName, ...]] = get_args(MetricName)

# What became of each consumed violation record (the `outcome` label).
Outcome = Literal["grouped", "duplicate", "shadow", "below_threshold", "undecodable"]
OUTCOMES: Final[tuple[Outcome, ...]] = get_args(Outcome)

# Why a message was not delivered (the `reason` label of the failures counter).
FailureReason = Literal["unavailable", "rejected"]
FAILURE_REASONS: Final[tuple[FailureReason, ...]] = get_args(FailureReason)


def _counter_name(name: MetricName) -> str:
    # prometheus_client appends `_total` to counters itself.
    return name.removesuffix("_total")


class NotifierMetrics:
    """Counters and gauges of one notifier, in a registry of their own (one per process or test)."""

    __slots__ = (
        "datamap_drift",
        "failures",
        "pending",
        "posted",
        "rate_limited",
        "registry",
        "retries",
        "violations",
        "volume_anomalies",
    )

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.violations = Counter(
            _counter_name("dua_notifier_violations_total"),
            "Violation records consumed, by what became of them.",
            ["outcome"],
            registry=self.registry,
        )
        self.posted = Counter(
            _counter_name("dua_notifier_posted_total"),
            "Messages the webhook accepted.",
            registry=self.registry,
        )
        self.failures = Counter(
            _counter_name("dua_notifier_failures_total"),
            "Messages not delivered: unavailable after every retry, or rejected (4xx).",
            ["reason"],
            registry=self.registry,
        )
        self.retries = Counter(
            _counter_name("dua_notifier_retries_total"),
            "Webhook attempts repeated after a 5xx, a 429 or a timeout.",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            _counter_name("dua_notifier_rate_limited_total"),
            "Times a due message waited because the per-minute budget was spent.",
            registry=self.registry,
        )
        self.pending = Gauge(
            "dua_notifier_pending_violations",
            "Violations waiting in open groups (their offsets are not committed yet).",
            registry=self.registry,
        )
        # Set by the periodic check of the audit tables (`RecordsWatch`), when it runs.
        self.datamap_drift = Gauge(
            "dua_notifier_datamap_drift",
            "Data map combinations drifting from the policy at the last check, by kind: "
            "undeclared (used, not permitted), new (first seen recently), unseen (declared, "
            "not used).",
            ["kind"],
            registry=self.registry,
        )
        self.volume_anomalies = Gauge(
            "dua_notifier_volume_anomalies",
            "Measures (accesses, distinct subjects) of a series flagged as a volume anomaly "
            "in the hours of the last check.",
            ["service", "purpose_category", "category"],
            registry=self.registry,
        )
        # Every label value exists from the start, so `increase()` sees the first event.
        for outcome in OUTCOMES:
            self.violations.labels(outcome=outcome)
        for reason in FAILURE_REASONS:
            self.failures.labels(reason=reason)
