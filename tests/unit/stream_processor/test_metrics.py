"""The processor's metric names are declared once and are what the registry exports."""

from __future__ import annotations

from typing import get_args

from dua_stream.processor import MetricName, ProcessorMetrics


def test_every_declared_name_is_exported() -> None:
    """Each `MetricName` is a series of the registry, and the registry has no other family."""
    metrics = ProcessorMetrics()
    families = set()
    for family in metrics.registry.collect():
        families.add(family.name + ("_total" if family.type == "counter" else ""))
    assert families == set(get_args(MetricName))


def test_batch_tallies_and_policy_version_are_recorded() -> None:
    """Counters add a batch's tallies; only the version in force has policy_info 1."""
    metrics = ProcessorMetrics()
    metrics.record_batch(
        {("jalan", "research"): 3},
        {("undeclared_purpose", "medium", "active", "jalan"): 2},
        {"x": 1},
        1,
        6,
    )
    metrics.set_policy("v1")
    metrics.set_policy("v2")
    value = metrics.registry.get_sample_value
    assert (
        value("dua_processor_events_total", {"service": "jalan", "purpose_category": "research"})
        == 3
    )
    assert value("dua_processor_rejected_total", {"reason": "x"}) == 1
    assert value("dua_processor_policy_info", {"version": "v2"}) == 1
    assert value("dua_processor_policy_info", {"version": "v1"}) is None
