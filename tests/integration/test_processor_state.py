"""Stateful rules through the running processor: consent from its own topic, re-identification."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from dua.settings import Settings

from .processor_harness import (
    CODEC,
    T0,
    ProcessorProcess,
    TopicReader,
    access_event,
    ad_event,
    consent_change,
    produce,
    produce_events,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def running(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> Iterator[tuple[Settings, ProcessorProcess]]:
    settings = settings_factory(partitions=2)
    worker = ProcessorProcess(settings, tmp_path).start()
    try:
        yield settings, worker
    finally:
        worker.stop()


def _rules(record: dict[str, object]) -> list[str]:
    return [v["rule"] for v in record["violations"]]  # type: ignore[attr-defined, index]


def test_consent_change_flips_later_verdicts(running: tuple[Settings, ProcessorProcess]) -> None:
    """After a subject's opt-out is applied, their next targeted ad is a violation; others' not."""
    settings, worker = running
    bootstrap = str(settings.kafka_bootstrap)
    subject, other = "a" * 64, "b" * 64
    before = ad_event(subject)
    produce_events(bootstrap, settings.topic_raw, [before])
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    try:
        assert len(tagged.read(1)) == 1, worker.log_text()
        change = consent_change(subject, targeting_opt_out=True)
        produce(
            bootstrap,
            settings.topic_consent,
            [(subject.encode(), CODEC.encode("ConsentChange", change))],
        )
        worker.wait_metric("dua_processor_consent_changes_total", 1)
        after, unaffected = ad_event(subject), ad_event(other)
        produce_events(bootstrap, settings.topic_raw, [after, unaffected])
        by_id = {r["event_id"]: r for r in tagged.read(3)}
        assert _rules(by_id[before["event_id"]]) == []
        assert _rules(by_id[after["event_id"]]) == ["targeting_opted_out"]
        assert _rules(by_id[unaffected["event_id"]]) == []
    finally:
        tagged.close()


def test_reidentification_fires_once_within_the_window(
    running: tuple[Settings, ProcessorProcess],
) -> None:
    """Pseudonymized behaviour then a name, by one actor: one finding; later and late ones: none."""
    settings, worker = running
    bootstrap = str(settings.kafka_bootstrap)
    analyst = {"kind": "EMPLOYEE", "id": "analyst-7"}
    subject, late_subject = "r" * 64, "q" * 64

    def linkable(subject_id: str, minutes: int) -> dict[str, object]:
        return access_event(
            subject_id=subject_id,
            occurred_at=T0 + timedelta(minutes=minutes),
            service="hotpepper-gourmet",
            purpose="research.profiling",
            elements=["user.behavior.usage_history"],
            processing="PSEUDONYMIZED",
            actor=analyst,
        )

    def identifying(subject_id: str, minutes: int) -> dict[str, object]:
        return access_event(
            subject_id=subject_id,
            occurred_at=T0 + timedelta(minutes=minutes),
            service="hotpepper-gourmet",
            purpose="service.inquiry_response",
            elements=["user.name"],
            actor=analyst,
        )

    sequence = [
        linkable(subject, 0),
        identifying(subject, 1),  # completes the pattern: the one finding
        identifying(subject, 2),  # same window: not reported again
        identifying(subject, 30),  # the linkable access is 30 min old: outside the 10 min window
        identifying(late_subject, 0),
        linkable(late_subject, 25),  # the other half, 25 min later: outside the window
    ]
    produce_events(bootstrap, settings.topic_raw, sequence)
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    violations = TopicReader(bootstrap, settings.topic_violations)
    try:
        by_id = {r["event_id"]: r for r in tagged.read(len(sequence))}
        assert len(by_id) == len(sequence), worker.log_text()
        findings = [
            e["event_id"]
            for e in sequence
            if "reidentification_suspected" in _rules(by_id[e["event_id"]])
        ]
        assert findings == [sequence[1]["event_id"]]
        violations.read(1)
        violations.poll(1.0)
        reid = [v for v in violations.records if v["rule"] == "reidentification_suspected"]
        assert [v["event_id"] for v in reid] == [sequence[1]["event_id"]]
    finally:
        tagged.close()
        violations.close()
