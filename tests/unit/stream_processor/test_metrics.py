"""The processor's metric names are declared once and are what the registry exports."""

from __future__ import annotations

from typing import get_args

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram

from dua_stream.processor import MetricName, ProcessorMetrics
from dua_stream.processor.metrics import BatchHistogram


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
        clock_ahead={"jalan": 2},
        native=2,
        contradicted={"linkable_provision_without_consent": 1},
    )
    metrics.set_policy("v1")
    metrics.set_policy("v2")
    value = metrics.registry.get_sample_value
    assert (
        value("dua_processor_events_total", {"service": "jalan", "purpose_category": "research"})
        == 3
    )
    assert value("dua_processor_rejected_total", {"reason": "x"}) == 1
    assert value("dua_processor_clock_ahead_total", {"service": "jalan"}) == 2
    assert value("dua_processor_native_events_total") == 2
    assert (
        value(
            "dua_processor_contradicted_violations_total",
            {"rule": "linkable_provision_without_consent"},
        )
        == 1
    )
    assert value("dua_processor_policy_info", {"version": "v2"}) == 1
    assert value("dua_processor_policy_info", {"version": "v1"}) is None


def test_state_entries_are_a_gauge_per_table() -> None:
    """The newest sizes replace the previous ones (entries come and go)."""
    metrics = ProcessorMetrics()
    metrics.set_state_entries({"consent": 5, "reidentification": 9})
    metrics.set_state_entries({"consent": 5, "reidentification": 2})
    value = metrics.registry.get_sample_value
    assert value("dua_processor_state_entries", {"table": "reidentification"}) == 2
    assert value("dua_processor_state_entries", {"table": "consent"}) == 5


BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


def _series(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in registry.collect()
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


@settings(max_examples=100, deadline=None)
@given(
    batches=st.lists(
        st.lists(st.sampled_from(BUCKETS) | st.floats(0, 1000, allow_nan=False), max_size=30),
        max_size=4,
    )
)
def test_batch_histogram_exports_what_a_prometheus_histogram_would(
    batches: list[list[float]],
) -> None:
    """Same `_bucket` series and `le` labels, `_count` and `_sum`, values on bounds included."""
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    batch = BatchHistogram("lat_seconds", "doc", BUCKETS, ours)
    reference = Histogram("lat_seconds", "doc", buckets=BUCKETS, registry=theirs)
    for values in batches:
        batch.observe_many(values)
        for value in values:
            reference.observe(value)
    got, want = _series(ours), _series(theirs)
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert abs(got[key] - value) <= 1e-9 * max(1.0, abs(value)), key


def test_latencies_of_a_batch_land_in_their_buckets() -> None:
    """A negative latency (clock stepped back) counts as 0 s, in the lowest bucket."""
    metrics = ProcessorMetrics()
    metrics.observe_latencies([-0.2, 0.003, 0.7, 400.0])
    value = metrics.registry.get_sample_value
    assert value("dua_processor_latency_seconds_bucket", {"le": "0.005"}) == 2
    assert value("dua_processor_latency_seconds_bucket", {"le": "1.0"}) == 3
    assert value("dua_processor_latency_seconds_bucket", {"le": "+Inf"}) == 4
    assert value("dua_processor_latency_seconds_count") == 4
    assert value("dua_processor_latency_seconds_sum") == 0.003 + 0.7 + 400.0
