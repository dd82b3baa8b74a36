"""Metrics: exported to Prometheus when installed, under the names of `Metric`; no-op if not."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from dua_producer import AuditClient, MemoryTransport, Metric
from dua_producer.prometheus import export_metrics


def test_counters_and_latency_histogram_are_exported(
    client_factory: Callable[..., AuditClient], transport: MemoryTransport
) -> None:
    """A scrape shows every metric name with the client's current counts."""
    registry = CollectorRegistry()
    client = client_factory(metrics=True, metrics_registry=registry)
    for i in range(3):
        client.emit(["user.name"], subject=i)
    client.flush(timeout=1)
    text = generate_latest(registry).decode()
    for metric in Metric:
        assert metric.value in text
    assert "dua_sdk_events_emitted_total 3.0" in text
    assert "dua_sdk_events_delivered_total 3.0" in text
    assert 'dua_sdk_delivery_latency_seconds_bucket{le="+Inf"} 3.0' in text
    client.close()
    assert "dua_sdk_events_emitted_total" not in generate_latest(registry).decode()


def test_without_prometheus_client_metrics_are_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    """With prometheus-client absent (the SDK's base install), exporting does nothing."""
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    unregister = export_metrics(lambda: pytest.fail("must not be read"))
    unregister()
