"""Every metric the SDK exports, named in one place; a misspelt name fails type checking."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Metric(StrEnum):
    """Exported metric names (counters end in `_total`, as Prometheus exposes them)."""

    EMITTED = "dua_sdk_events_emitted_total"
    DELIVERED = "dua_sdk_events_delivered_total"
    FAILED = "dua_sdk_delivery_failures_total"
    SPOOLED = "dua_sdk_events_spooled_total"
    REPLAYED = "dua_sdk_events_replayed_total"
    DROPPED = "dua_sdk_events_dropped_total"
    SPOOL_BYTES = "dua_sdk_spool_bytes"
    SPOOL_PENDING = "dua_sdk_spool_pending_events"
    DELIVERY_LATENCY = "dua_sdk_delivery_latency_seconds"


HELP: Final[dict[Metric, str]] = {
    Metric.EMITTED: "Events accepted by emit() (access events and consent changes).",
    Metric.DELIVERED: "Events Kafka acknowledged, directly or replayed from the spool.",
    Metric.FAILED: "Deliveries Kafka reported failed (the event then goes to the spool).",
    Metric.SPOOLED: "Events written to the local spool because Kafka did not take them.",
    Metric.REPLAYED: "Spooled events delivered to Kafka by replay.",
    Metric.DROPPED: "Events lost because the spool was full or unwritable. Alert on any.",
    Metric.SPOOL_BYTES: "Bytes the spool's segment files take.",
    Metric.SPOOL_PENDING: "Spooled events not yet delivered.",
    Metric.DELIVERY_LATENCY: "Seconds from produce to Kafka's acknowledgement.",
}

COUNTERS: Final = (
    Metric.EMITTED,
    Metric.DELIVERED,
    Metric.FAILED,
    Metric.SPOOLED,
    Metric.REPLAYED,
    Metric.DROPPED,
)
GAUGES: Final = (Metric.SPOOL_BYTES, Metric.SPOOL_PENDING)
LATENCY_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
