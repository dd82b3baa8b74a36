"""Stateful rules through the running processor: consent from its own topic, re-identification."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from confluent_kafka import Producer

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


ANALYST = {"kind": "EMPLOYEE", "id": "analyst-7"}


def linkable(subject_id: str, minutes: int) -> dict[str, object]:
    """Pseudonymized behaviour data read by the analyst: half of a re-identification."""
    return access_event(
        subject_id=subject_id,
        occurred_at=T0 + timedelta(minutes=minutes),
        service="hotpepper-gourmet",
        purpose="research.profiling",
        elements=["user.behavior.usage_history"],
        processing="PSEUDONYMIZED",
        actor=ANALYST,
    )


def identifying(subject_id: str, minutes: int) -> dict[str, object]:
    """The subject's name read by the same analyst: the other half."""
    return access_event(
        subject_id=subject_id,
        occurred_at=T0 + timedelta(minutes=minutes),
        service="hotpepper-gourmet",
        purpose="service.inquiry_response",
        elements=["user.name"],
        actor=ANALYST,
    )


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
    subject, late_subject = "r" * 64, "q" * 64

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


def _produce_to_partitions(
    bootstrap: str, topic: str, events: list[tuple[int, dict[str, object]]]
) -> None:
    """Access events on the partitions given (the expiry test needs to know which is where)."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for partition, event in events:
        key = str(event["subject_id"]).encode()
        producer.produce(topic, CODEC.encode("DataAccessEvent", event), key, partition)
    assert producer.flush(30) == 0


def test_expired_reidentification_state_is_deleted_for_good(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    """A subject's entry far behind its partition's newest event time is deleted with a
    changelog tombstone: its late other half finds nothing, also after a restart, while an
    entry of another partition lives on and is restored (expiry settings: DUA_PROCESSOR_*)."""
    settings = settings_factory(partitions=2)
    bootstrap = str(settings.kafka_bootstrap)
    worker = ProcessorProcess(
        settings,
        tmp_path,
        env={"DUA_PROCESSOR_EXPIRY_EVERY_S": "0.5", "DUA_PROCESSOR_EXPIRY_GRACE_S": "0"},
    )
    expired, kept = "e" * 64, "k" * 64

    # partition 0 moves on an hour (another subject's event): the entry of `expired` there
    # is 60 minutes behind, beyond the 10-minute window; partition 1 stays at T0
    later = access_event(subject_id="o" * 64, occurred_at=T0 + timedelta(hours=1))
    first = [(0, linkable(expired, 0)), (1, linkable(kept, 0)), (0, later)]
    late = [(0, identifying(expired, 2)), (1, identifying(kept, 2))]
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    try:
        worker.start()
        _produce_to_partitions(bootstrap, settings.topic_raw, first)
        assert len(tagged.read(len(first))) == len(first), worker.log_text()
        assert worker.wait_metric("dua_processor_state_expired_total", 1) == 1
        # three subjects' entries, one expired; the gauge is set after each expiry round
        left = {"table": "reidentification"}
        assert worker.wait_metric("dua_processor_state_entries", 2, **left) == 2
        app_id = worker.env["DUA_PROCESSOR_APP_ID"]
        changelog = TopicReader(bootstrap, f"{app_id}-reidentification-changelog", decode=False)
        changelog.poll(3.0)
        changelog.close()
        (tombstone,) = changelog.tombstones
        assert expired.encode() in tombstone  # the entry is the subject's
        assert len(changelog.values) == len(first)  # each event wrote its subject's entry
        assert worker.stop() == 0

        worker.restart()  # the tables come back from the changelogs
        _produce_to_partitions(bootstrap, settings.topic_raw, late)
        by_id = {r["event_id"]: r for r in tagged.read(len(first) + len(late))}
        assert _rules(by_id[late[0][1]["event_id"]]) == []  # its other half was deleted
        assert _rules(by_id[late[1][1]["event_id"]]) == ["reidentification_suspected"]
    finally:
        tagged.close()
        worker.stop()


@pytest.mark.parametrize("compression", ["gzip", "snappy", "zstd"])
def test_tables_restore_from_changelogs_in_every_compression(
    settings_factory: Callable[..., Settings], tmp_path: Path, compression: str
) -> None:
    """DUA_PROCESSOR_PRODUCER_COMPRESSION also compresses the tables' changelogs, which Faust
    reads back at start (lz4, the default, is restored in the other tests): a window opened
    before a restart completes after it."""
    settings = settings_factory(partitions=1)
    bootstrap = str(settings.kafka_bootstrap)
    worker = ProcessorProcess(
        settings, tmp_path, env={"DUA_PROCESSOR_PRODUCER_COMPRESSION": compression}
    )
    subject = "c" * 64
    opened, completed = linkable(subject, 0), identifying(subject, 1)
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    try:
        worker.start()
        produce_events(bootstrap, settings.topic_raw, [opened])
        assert len(tagged.read(1)) == 1, worker.log_text()
        assert worker.stop() == 0
        worker.restart()
        produce_events(bootstrap, settings.topic_raw, [completed])
        by_id = {r["event_id"]: r for r in tagged.read(2)}
        assert _rules(by_id[completed["event_id"]]) == ["reidentification_suspected"], (
            worker.log_text()
        )
    finally:
        tagged.close()
        worker.stop()
