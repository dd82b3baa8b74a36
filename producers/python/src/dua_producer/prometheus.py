"""Exposes `DeliveryStats` to Prometheus when prometheus-client is installed (extra `metrics`).

Without it, `export_metrics` does nothing and returns a no-op: the SDK never requires it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from dua_producer.metric_names import COUNTERS, GAUGES, HELP, LATENCY_BUCKETS, Metric
from dua_producer.stats import StatsSnapshot

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

log = logging.getLogger("dua_producer.metrics")


def _noop() -> None:
    return None


def export_metrics(
    snapshot: Callable[[], StatsSnapshot], registry: CollectorRegistry | None = None
) -> Callable[[], None]:
    """Register a collector reading `snapshot()` at scrape time; return its unregistration.

    `registry` defaults to prometheus-client's global one. A second client in the same
    process and registry is not exported (a warning says so) rather than failing.
    """
    try:
        from prometheus_client import REGISTRY  # noqa: PLC0415 - optional dependency
        from prometheus_client.core import (  # noqa: PLC0415
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )
    except ImportError:
        return _noop
    target = REGISTRY if registry is None else registry

    class _Collector:
        def collect(self) -> Iterator[Any]:
            now = snapshot()
            for metric in COUNTERS:
                name = metric.value.removesuffix("_total")
                yield CounterMetricFamily(name, HELP[metric], value=now.value(metric))
            for metric in GAUGES:
                yield GaugeMetricFamily(metric.value, HELP[metric], value=now.value(metric))
            bounds = [*(str(b) for b in LATENCY_BUCKETS), "+Inf"]
            yield HistogramMetricFamily(
                Metric.DELIVERY_LATENCY.value,
                HELP[Metric.DELIVERY_LATENCY],
                buckets=list(zip(bounds, now.latency_buckets, strict=True)),
                sum_value=now.latency_sum,
            )

    collector = _Collector()
    try:
        target.register(collector)
    except ValueError:
        log.warning(
            "another audit client already exports dua_sdk_* metrics to this registry; "
            "this one's are available from AuditClient.stats() only"
        )
        return _noop

    def unregister() -> None:
        target.unregister(collector)

    return unregister
