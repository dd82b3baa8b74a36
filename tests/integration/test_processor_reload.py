"""Policy reload without restart: a changed file changes later verdicts; a broken one is refused."""

from __future__ import annotations

import signal
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

from dua.settings import Settings
from dua_policy import load_policy

from .processor_harness import ProcessorProcess, TopicReader, access_event, produce_events

pytestmark = pytest.mark.integration

PERMITTED = "permitted: [user.account.id, user.content.message]"


def _default_policy_text() -> str:
    return (resources.files("dua_policy") / "default_policy.yaml").read_text("utf-8")


def test_reload_changes_later_verdicts_and_refuses_a_broken_file(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    """v1 tags a message read as compliant; v2 (file rewritten) flags it; a broken v3 is refused."""
    settings = settings_factory(partitions=2)
    bootstrap = str(settings.kafka_bootstrap)
    policy = tmp_path / "policy.yaml"
    text = _default_policy_text()
    assert PERMITTED in text
    policy.write_text(text, "utf-8")
    v1 = load_policy(policy).version
    worker = ProcessorProcess(settings, tmp_path, policy=policy).start()
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    try:
        first = access_event()
        produce_events(bootstrap, settings.topic_raw, [first])
        assert len(tagged.read(1)) == 1, worker.log_text()

        narrowed = text.replace('version: "2026.11"', 'version: "2026.12"').replace(
            PERMITTED, "permitted: [user.account.id]"
        )
        policy.write_text(narrowed, "utf-8")
        v2 = load_policy(policy).version
        worker.wait_metric("dua_processor_policy_info", 1, version=v2)
        second = access_event()
        produce_events(bootstrap, settings.topic_raw, [second])
        tagged.read(2)

        policy.write_text(narrowed.replace("permitted: [user.account.id]", "permitted: 7"), "utf-8")
        worker.signal(signal.SIGHUP)
        worker.wait_metric("dua_processor_policy_reloads_total", 1, outcome="refused")
        third = access_event()
        produce_events(bootstrap, settings.topic_raw, [third])
        by_id = {r["event_id"]: r for r in tagged.read(3)}

        assert by_id[first["event_id"]]["policy_version"] == v1
        assert by_id[first["event_id"]]["violations"] == []
        for later in (second, third):  # the refused file left v2 in force
            record = by_id[later["event_id"]]
            assert record["policy_version"] == v2
            assert [v["rule"] for v in record["violations"]] == ["purpose_not_permitted"]
        assert worker.metric("dua_processor_policy_info", version=v1) is None
        assert "policy reload refused" in worker.log.read_text()
    finally:
        tagged.close()
        worker.stop()
