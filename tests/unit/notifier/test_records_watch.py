"""The notifier's records check: gauges follow each check, findings are posted once."""

from __future__ import annotations

import threading
from typing import Any

from prometheus_client import CollectorRegistry

from dua_schemas import DuaError
from dua_stream.notifier import (
    AnomalyFinding,
    NotifierMetrics,
    RecordsFindings,
    RecordsWatch,
    render_findings,
)


class _Poster:
    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []

    def post(self, payload: dict[str, Any]) -> None:
        self.posted.append(payload)


SPIKE = AnomalyFinding("jalan", "marketing", "personal", "2026-12-01 12:00 UTC jalan spike")


def _findings(lines: tuple[str, ...], anomalies: tuple[AnomalyFinding, ...]) -> RecordsFindings:
    counts = {"undeclared": 1, "new": len(lines) - 1, "unseen": 40}
    return RecordsFindings(counts, lines, anomalies)


def _value(metrics: NotifierMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_a_check_sets_the_gauges_and_posts_what_is_new_once() -> None:
    """Drift counts and flagged series become gauges; a finding is announced only once."""
    metrics = NotifierMetrics(CollectorRegistry())
    poster = _Poster()
    results = [
        _findings(("undeclared: rikunabi used salary", "new: jalan used email"), (SPIKE,)),
        _findings(("undeclared: rikunabi used salary", "new: jalan used email"), ()),
    ]
    watch = RecordsWatch(lambda: results.pop(0), poster, metrics, interval_s=60)
    first = watch.check()
    assert len(first) == 3
    (message,) = poster.posted
    assert "Data map drift: undeclared: rikunabi used salary" in message["text"]
    assert "Volume anomaly: 2026-12-01 12:00 UTC jalan spike" in message["text"]
    assert _value(metrics, "dua_notifier_datamap_drift", kind="unseen") == 40
    assert _value(metrics, "dua_notifier_datamap_drift", kind="new") == 1
    spike = {"service": "jalan", "purpose_category": "marketing", "category": "personal"}
    assert _value(metrics, "dua_notifier_volume_anomalies", **spike) == 1
    assert watch.check() == []  # nothing new: no second message
    assert len(poster.posted) == 1
    assert _value(metrics, "dua_notifier_volume_anomalies", **spike) is None  # cleared


def test_a_failing_source_does_not_end_the_checks() -> None:
    """An unreachable ClickHouse is logged; the next check runs (and posts) as usual."""
    metrics = NotifierMetrics(CollectorRegistry())
    poster = _Poster()
    stop = threading.Event()
    calls: list[int] = []

    def source() -> RecordsFindings:
        calls.append(1)
        if len(calls) == 1:
            raise DuaError("ClickHouse is away")
        stop.set()
        return _findings(("new: jalan used email", "undeclared: x"), ())

    RecordsWatch(source, poster, metrics, interval_s=0.01).run(stop)
    assert len(calls) == 2
    assert len(poster.posted) == 1


def test_a_long_list_is_cut_with_a_pointer_to_the_commands() -> None:
    """Past 20 findings the message says how many more and where to see them."""
    text = render_findings([f"new: combination {n}" for n in range(25)])
    assert text.count("• new:") == 20
    assert "and 5 more (`dua datamap`, `dua anomalies`)" in text
