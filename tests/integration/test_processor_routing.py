"""`dua run processor` on a mixed stream: compliant, violating and poison inputs, exact counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dua.settings import Settings
from dua_policy import Engine, MemoryState, load_policy

from .processor_harness import (
    CODEC,
    ProcessorProcess,
    TopicReader,
    access_event,
    consent_change,
    produce,
    produce_events,
)

pytestmark = pytest.mark.integration

COMPLIANT = 40
VIOLATING = 25


@pytest.fixture
def processor_env(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> Iterator[tuple[Settings, ProcessorProcess]]:
    settings = settings_factory(partitions=2)
    worker = ProcessorProcess(settings, tmp_path).start()
    try:
        yield settings, worker
    finally:
        worker.stop()


def _violating(i: int) -> dict[str, object]:
    return access_event(
        service="hotpepper-gourmet",
        purpose="marketing.targeted_advertising",
        elements=["user.name", "user.device.ad_id"],
        destination={"kind": "AD_PLATFORM", "name": f"ads-{i % 3}"},
    )


def test_mixed_stream_lands_in_tagged_violations_and_dlq(
    processor_env: tuple[Settings, ProcessorProcess],
) -> None:
    """Each good event is tagged once, each finding is one Violation, each poison one DLQ record."""
    settings, worker = processor_env
    bootstrap = str(settings.kafka_bootstrap)
    events = [access_event() for _ in range(COMPLIANT)] + [_violating(i) for i in range(VIOLATING)]
    engine, state = Engine(load_policy()), MemoryState()
    expected_violations = Counter(
        f.rule for e in events for f in engine.classify(e, state).violations
    )
    produce_events(bootstrap, settings.topic_raw, events)
    not_uuid = CODEC.encode("DataAccessEvent", access_event(event_id="not-a-uuid"))
    poison = [
        (b"k1", b"plain text, not Avro"),  # unknown_framing
        (b"k2", b""),  # empty_payload
        (b"k3", not_uuid[:-3]),  # truncated / corrupt body
        (b"k4", CODEC.encode("ConsentChange", consent_change("x" * 64, targeting_opt_out=True))),
        (b"k5", not_uuid),  # decodes, fails validation
        (b"k6", b"\x00\x00\x00\x00\x07rest"),  # Confluent framing, no registry configured
    ]
    produce(bootstrap, settings.topic_raw, poison)

    tagged = TopicReader(bootstrap, settings.topic_tagged)
    violations = TopicReader(bootstrap, settings.topic_violations)
    dlq = TopicReader(bootstrap, settings.topic_dlq)
    try:
        tagged.read(len(events))
        violations.read(sum(expected_violations.values()))
        dlq.read(len(poison))
        for reader in (tagged, violations, dlq):  # nothing more arrives afterwards
            reader.poll(2.0)
        assert len(tagged.records) == len(events), worker.log_text()
        assert {r["event_id"] for r in tagged.records} == {e["event_id"] for e in events}
        assert Counter(r["rule"] for r in violations.records) == expected_violations
        assert len(dlq.records) == len(poison)
        reasons = Counter(r["reason"] for r in dlq.records)
        assert reasons["unknown_framing"] == 1
        assert reasons["empty_payload"] == 1
        assert reasons["unexpected_record"] == 1
        assert reasons["invalid_event"] == 1
        assert reasons["no_registry"] == 1
        version = engine.policy_version
        assert {r["policy_version"] for r in tagged.records} == {version}
        assert {r["policy_version"] for r in violations.records} == {version}
        assert {h["dua.policy_version"] for h in tagged.headers} == {version.encode()}
        by_key = {r["key"]: r for r in dlq.records}
        assert by_key[b"k1"]["payload_prefix"] == b"plain text, not Avro"
        assert by_key[b"k1"]["source_topic"] == settings.topic_raw
        assert by_key[b"k5"]["step_id"] == "validate"
        assert by_key[b"k5"]["payload_size"] == len(not_uuid)
        assert {h["dua.reason"] for h in dlq.headers} == {r["reason"].encode() for r in dlq.records}
        assert worker.wait_metric("dua_processor_rejected_total", 1, reason="invalid_event") == 1.0
    finally:
        for reader in (tagged, violations, dlq):
            reader.close()
