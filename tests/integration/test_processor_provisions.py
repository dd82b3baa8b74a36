"""`dua run processor` on the real broker: a third-party access to an undeclared recipient is
an `unregistered_recipient` violation and carries its APPI provision decision on the tagged
event; an internal access carries none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dua.settings import Settings

from .processor_harness import ProcessorProcess, TopicReader, access_event, produce_events

pytestmark = pytest.mark.integration


def test_an_undeclared_recipient_is_a_violation_and_a_provision(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    """Undeclared CLIENT: rule 15 on the violations topic, a third-party provision (recipient
    not registered) on the tagged topic; the internal access: no provision, no violation."""
    settings = settings_factory(partitions=1)
    worker = ProcessorProcess(settings, tmp_path).start()
    bootstrap = str(settings.kafka_bootstrap)
    undeclared = access_event(
        service="hotpepper-beauty",
        purpose="service.points_program",
        elements=["user.account.id", "user.behavior.usage_history"],
        destination={"kind": "CLIENT", "name": "data-broker"},
    )
    internal = access_event()
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    violations = TopicReader(bootstrap, settings.topic_violations)
    try:
        produce_events(bootstrap, settings.topic_raw, [undeclared, internal])
        tagged.read(2)
        violations.read(1)
        for reader in (tagged, violations):
            reader.poll(2.0)
        by_id = {r["event_id"]: r for r in tagged.records}
        assert set(by_id) == {undeclared["event_id"], internal["event_id"]}, worker.log_text()
        provision = by_id[undeclared["event_id"]]["provision"]
        assert provision["third_party"] is True
        assert provision["recipient_registered"] is False
        assert provision["basis"] == "consent"
        assert by_id[internal["event_id"]]["provision"]["third_party"] is False
        assert [(v["event_id"], v["rule"], v["severity"]) for v in violations.records] == [
            (undeclared["event_id"], "unregistered_recipient", "high")
        ]
    finally:
        for reader in (tagged, violations):
            reader.close()
        worker.stop()
