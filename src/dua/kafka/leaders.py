"""Who leads what in a Kafka cluster: its brokers, and each partition's leader, replicas and ISR."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException

# ConfigResource's documented path; confluent_kafka.admin re-exports it without an `__all__`.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ConfigResource,
)

from dua_schemas import TransportError


@dataclass(frozen=True, slots=True)
class PartitionView:
    """One partition: its leader (-1 while it has none), its replicas and those in sync."""

    topic: str
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)


@dataclass(frozen=True, slots=True)
class ClusterView:
    """The brokers the metadata lists (id -> host:port), the controller, every partition."""

    brokers: dict[int, str]
    controller: int
    partitions: tuple[PartitionView, ...]

    def of(self, topic: str) -> tuple[PartitionView, ...]:
        return tuple(p for p in self.partitions if p.topic == topic)


def describe_cluster(
    bootstrap: str,
    *,
    timeout: float = 10.0,
    config: Mapping[str, str] | None = None,
    internal: bool = False,
) -> ClusterView:
    """The cluster as its metadata shows it now; `internal` keeps Kafka's `__…` topics."""
    admin = _admin(bootstrap, config)
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise TransportError(
            f"Kafka at {bootstrap} did not answer within {timeout:.0f} s: {exc.args[0]}"
        ) from None
    brokers = {b.id: f"{b.host}:{b.port}" for b in metadata.brokers.values()}
    partitions = tuple(
        PartitionView(name, p.id, p.leader, tuple(p.replicas), tuple(p.isrs))
        for name, topic in sorted(metadata.topics.items())
        if internal or not name.startswith("__")
        for p in sorted(topic.partitions.values(), key=lambda p: p.id)
    )
    return ClusterView(dict(sorted(brokers.items())), metadata.controller_id, partitions)


def topic_settings(
    bootstrap: str,
    topic: str,
    *,
    timeout: float = 10.0,
    config: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A topic's effective configuration (its own values and the broker's defaults)."""
    admin = _admin(bootstrap, config)
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    future = admin.describe_configs([resource], request_timeout=timeout)[resource]
    try:
        entries = future.result(timeout)
    except KafkaException as exc:
        raise TransportError(f"Kafka at {bootstrap} did not describe {topic}: {exc}") from None
    return {name: str(entry.value) for name, entry in entries.items()}


def _admin(bootstrap: str, config: Mapping[str, str] | None) -> AdminClient:
    # A broker that is down is what a caller asks about here: librdkafka's line per refused
    # connection (log level 3) would only repeat it.
    settings: dict[str, Any] = {"log_level": 2, **(config or {}), "bootstrap.servers": bootstrap}
    return AdminClient(settings)
