"""Consent as it stood when the access happened, through the running processor and the real
broker: the races between the consent and raw topics give exactly the expected violations."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dua.settings import Settings
from dua_policy import violation_id

from .processor_harness import (
    CODEC,
    T0,
    ProcessorProcess,
    TopicReader,
    ad_event,
    consent_change,
    produce,
    produce_events,
)

pytestmark = pytest.mark.integration

RULE = "targeting_opted_out"
GRACE_MS = 400


@pytest.fixture
def running(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> Iterator[tuple[Settings, ProcessorProcess]]:
    settings = settings_factory(partitions=2)
    worker = ProcessorProcess(
        settings, tmp_path, env={"DUA_PROCESSOR_CONSENT_GRACE_MS": str(GRACE_MS)}
    ).start()
    try:
        yield settings, worker
    finally:
        worker.stop()


def _consent(settings: Settings, subject: str, minutes: float, *, out: bool) -> None:
    change = consent_change(subject, targeting_opt_out=out) | {
        "occurred_at": T0 + timedelta(minutes=minutes)
    }
    produce(
        str(settings.kafka_bootstrap),
        settings.topic_consent,
        [(subject.encode(), CODEC.encode("ConsentChange", change))],
    )


def _ad(subject: str, minutes: float) -> dict[str, Any]:
    return ad_event(subject, occurred_at=T0 + timedelta(minutes=minutes))


def _by_event(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        found.setdefault(record["event_id"], []).append(record)
    return found


def test_an_opt_out_and_an_ad_in_the_same_millisecond(
    running: tuple[Settings, ProcessorProcess],
) -> None:
    """The ad is produced first, the opt-out of the same millisecond just after: the ad is
    held for the grace, so its tagged event already carries the finding, on time."""
    settings, worker = running
    bootstrap = str(settings.kafka_bootstrap)
    subject = "1" * 64
    ad = _ad(subject, 0)
    produce_events(bootstrap, settings.topic_raw, [ad])
    _consent(settings, subject, 0, out=True)
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    violations = TopicReader(bootstrap, settings.topic_violations)
    try:
        (record,) = tagged.read(1)
        assert [v["rule"] for v in record["violations"]] == [RULE], worker.log_text()
        (violation,) = violations.read(1)
        assert violation["event_id"] == ad["event_id"]
        assert violation["detected_late_ms"] == 0
    finally:
        tagged.close()
        violations.close()


def test_a_change_after_the_grace_gives_a_late_violation_with_the_on_time_id(
    running: tuple[Settings, ProcessorProcess],
) -> None:
    """An opt-out spooled by its producer arrives after the ad it precedes was processed:
    the violation comes then, marked late, with the id it would have had on time."""
    settings, worker = running
    bootstrap = str(settings.kafka_bootstrap)
    subject = "2" * 64
    ad = _ad(subject, 5)
    produce_events(bootstrap, settings.topic_raw, [ad])
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    violations = TopicReader(bootstrap, settings.topic_violations)
    try:
        (record,) = tagged.read(1)
        assert record["violations"] == []
        time.sleep(2 * GRACE_MS / 1000)
        _consent(settings, subject, 0, out=True)
        (violation,) = violations.read(1)
        expected = violation_id(ad["event_id"], RULE, record["policy_version"])
        assert violation["violation_id"] == expected
        assert violation["detected_late_ms"] > GRACE_MS
        worker.wait_metric("dua_processor_late_violations_total", 1, rule=RULE)
    finally:
        tagged.close()
        violations.close()


def test_an_opt_in_after_an_access_does_not_clear_its_violation(
    running: tuple[Settings, ProcessorProcess],
) -> None:
    """Opt-out, an ad, opt-in, an ad: the ad between is a violation and stays one; the ad
    after the opt-in is not, and the opt-in makes nothing new."""
    settings, _ = running
    bootstrap = str(settings.kafka_bootstrap)
    subject = "3" * 64
    _consent(settings, subject, 0, out=True)
    between, after = _ad(subject, 1), _ad(subject, 3)
    produce_events(bootstrap, settings.topic_raw, [between])
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    violations = TopicReader(bootstrap, settings.topic_violations)
    try:
        tagged.read(1)
        _consent(settings, subject, 2, out=False)
        time.sleep(2 * GRACE_MS / 1000)
        produce_events(bootstrap, settings.topic_raw, [after])
        by_id = _by_event(tagged.read(2))
        assert [v["rule"] for v in by_id[between["event_id"]][0]["violations"]] == [RULE]
        assert by_id[after["event_id"]][0]["violations"] == []
        violations.poll(3.0)
        assert [v["event_id"] for v in violations.records] == [between["event_id"]]
    finally:
        tagged.close()
        violations.close()


def test_kill_9_mid_stream_loses_no_consent_violation(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    """Opt-outs planted on time, in the same millisecond and late, a worker killed with -9
    mid-stream and restarted: every planted violation is found, none twice visible (one id
    per planted access)."""
    settings = settings_factory(partitions=4)
    bootstrap = str(settings.kafka_bootstrap)
    subjects = [f"{i:064x}" for i in range(60)]
    for i, subject in enumerate(subjects):
        if i % 3 != 2:  # a third opt out only after their ads are processed
            _consent(settings, subject, 0, out=True)
    ads = [_ad(subject, minutes) for subject in subjects for minutes in (0, 1, 2)]
    ads += [_ad("f" * 64, 1) for _ in range(3_000)]  # compliant traffic around them
    produce_events(bootstrap, settings.topic_raw, ads)
    worker = ProcessorProcess(
        settings, tmp_path, env={"DUA_PROCESSOR_CONSENT_GRACE_MS": str(GRACE_MS)}
    ).start()
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    violations = TopicReader(bootstrap, settings.topic_violations)
    try:
        tagged.read(1)
        worker.kill9()
        for i, subject in enumerate(subjects):
            if i % 3 == 2:
                _consent(settings, subject, 0, out=True)
        worker.restart()
        planted = {ad["event_id"] for ad in ads[: 3 * len(subjects)]}
        deadline = time.monotonic() + 90
        while {v["event_id"] for v in violations.records} < planted:
            assert time.monotonic() < deadline, worker.log_text()
            violations.poll(2.0)
        violations.poll(2.0)
        found = _by_event(violations.records)
        assert set(found) == planted
        # repeats (at-least-once) carry the same id: one visible violation per access
        assert all(len({v["violation_id"] for v in copies}) == 1 for copies in found.values())
    finally:
        tagged.close()
        violations.close()
        worker.stop()
