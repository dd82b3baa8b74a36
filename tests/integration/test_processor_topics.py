"""`prepare_topics` against the real broker: the topics `dua run processor` creates or finds
at start, and the partition counts it refuses before Faust starts on them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import fields

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, ResourceType

from dua.commands.processor_run import prepare_topics
from dua.kafka import ensure_topics, topic_partitions
from dua.settings import Settings
from dua_schemas import ConfigError
from dua_stream.processor import changelog_topics

pytestmark = pytest.mark.integration


def _fresh_names(settings: Settings) -> dict[str, str]:
    """Topic settings naming topics that do not exist yet."""
    suffix = uuid.uuid4().hex[:8]
    return {f"topic_{f.name}": f"test.{f.name}.{suffix}" for f in fields(settings.topics)}


def _app_id() -> str:
    """An app id of the test's own: its changelog topics are no other test's."""
    return f"test-processor-{uuid.uuid4().hex[:10]}"


def test_absent_topics_are_created_with_the_configured_partitions_and_retention(
    settings_factory: Callable[..., Settings],
) -> None:
    base = settings_factory()
    settings = settings_factory(
        partitions=3, topic_retention_hours=5, processor_app_id=_app_id(), **_fresh_names(base)
    )
    assert prepare_topics(settings) == 3
    bootstrap = str(settings.kafka_bootstrap)
    counts = topic_partitions(bootstrap)
    assert {counts[name] for name in settings.topics.names()} == {3}
    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfigResource(ResourceType.TOPIC, settings.topic_raw)
    config = admin.describe_configs([resource])[resource].result(30)
    assert config["retention.ms"].value == str(5 * 3_600_000)
    assert prepare_topics(settings) == 3  # and found as they are the next time


def test_the_state_changelogs_are_created_compacted_with_the_raw_partition_count(
    settings_factory: Callable[..., Settings],
) -> None:
    """The changelogs are created before Faust starts (so they get the cluster's replication,
    not Faust's single replica): compacted, with the raw topic's partition count."""
    settings = settings_factory(partitions=3, processor_app_id=_app_id())
    assert prepare_topics(settings) == 3
    bootstrap = str(settings.kafka_bootstrap)
    counts = topic_partitions(bootstrap)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for changelog in changelog_topics(settings.processor_app_id).values():
        assert counts[changelog] == 3
        resource = ConfigResource(ResourceType.TOPIC, changelog)
        config = admin.describe_configs([resource])[resource].result(30)
        assert config["cleanup.policy"].value == "compact"


def test_raw_and_consent_must_have_the_same_partition_count(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(partitions=2, processor_app_id=_app_id())
    admin = AdminClient({"bootstrap.servers": str(settings.kafka_bootstrap)})
    admin.create_partitions([NewPartitions(settings.topic_consent, 3)])[
        settings.topic_consent
    ].result(30)
    _until_listed(str(settings.kafka_bootstrap), settings.topic_consent, 3)
    with pytest.raises(ConfigError, match=f"{settings.topic_consent} has 3"):
        prepare_topics(settings)


def _until_listed(bootstrap: str, topic: str, partitions: int) -> None:
    """create_partitions returns before the broker's metadata lists the new partitions; the
    tests here are about what `prepare_topics` does with the count, so wait for it first."""
    deadline = time.monotonic() + 30
    while topic_partitions(bootstrap).get(topic) != partitions:
        assert time.monotonic() < deadline, f"{topic} never listed {partitions} partitions"
        time.sleep(0.1)


def test_input_topics_cannot_change_their_partition_count_under_existing_state(
    settings_factory: Callable[..., Settings],
) -> None:
    """Raw and consent grew from 2 partitions to 4 while the state's changelogs have 2: Faust
    would start, and look for a subject's state on a partition it is not on."""
    settings = settings_factory(partitions=2, processor_app_id=_app_id())
    bootstrap = str(settings.kafka_bootstrap)
    changelogs = changelog_topics(settings.processor_app_id)
    ensure_topics(bootstrap, changelogs.values(), partitions=2)
    assert prepare_topics(settings) == 2  # the same count: fine
    admin = AdminClient({"bootstrap.servers": bootstrap})
    grown = [NewPartitions(settings.topic_raw, 4), NewPartitions(settings.topic_consent, 4)]
    for future in admin.create_partitions(grown).values():
        future.result(30)
    _until_listed(bootstrap, settings.topic_raw, 4)
    _until_listed(bootstrap, settings.topic_consent, 4)
    with pytest.raises(ConfigError) as refused:
        prepare_topics(settings)
    message = str(refused.value)
    assert f"{settings.topic_raw} has 4 partitions" in message
    assert f"changelog {changelogs['consent']} has 2" in message
    assert "DUA_PROCESSOR_APP_ID" in message
