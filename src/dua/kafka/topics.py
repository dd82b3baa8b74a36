"""Creates and describes topics with confluent-kafka's AdminClient."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from confluent_kafka import KafkaError, KafkaException

# NewTopic's documented path; confluent_kafka.admin re-exports it without an `__all__`.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    NewTopic,
)

from dua.kafka.errors import TopicError
from dua_schemas import TransportError


def ensure_topics(
    bootstrap: str,
    names: Iterable[str],
    *,
    partitions: int,
    retention_ms: int | None = None,
    timeout: float = 30.0,
    config: Mapping[str, str] | None = None,
    topic_config: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Create the topics that do not exist yet; return name → partition count for all of them.

    Idempotent: an existing topic is left as it is (its partition count is reported, not
    changed), and a topic another client creates at the same moment is not an error.
    `config` holds extra client settings, e.g. a secured broker's login (`client_config`);
    `topic_config` extra settings of the created topics (e.g. `cleanup.policy`).
    """
    wanted = list(dict.fromkeys(names))
    admin = _admin(bootstrap, config)
    existing = _partitions(admin, bootstrap, timeout)
    missing = [name for name in wanted if name not in existing]
    if missing:
        settings = {"retention.ms": str(retention_ms)} if retention_ms is not None else {}
        settings.update(topic_config or {})
        # Replication factor left to the broker's default: 1 locally, the cluster's elsewhere.
        requests = [NewTopic(name, num_partitions=partitions, config=settings) for name in missing]
        futures = admin.create_topics(requests, operation_timeout=timeout, request_timeout=timeout)
        for name, future in futures.items():
            try:
                future.result()
            except KafkaException as exc:
                error = exc.args[0]
                if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    continue
                raise TopicError(f"could not create topic {name}: {error.str()}") from None
        existing = _listed(admin, bootstrap, missing, timeout)
    return {name: existing[name] for name in wanted}


def topic_partitions(
    bootstrap: str, *, timeout: float = 10.0, config: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Every topic but Kafka's internal ones (`__…`), with its partition count."""
    admin = _admin(bootstrap, config)
    found = _partitions(admin, bootstrap, timeout)
    return {name: count for name, count in found.items() if not name.startswith("__")}


def delete_topics(
    bootstrap: str,
    names: Iterable[str],
    *,
    timeout: float = 30.0,
    config: Mapping[str, str] | None = None,
) -> None:
    """Delete topics; ones that do not exist are skipped."""
    wanted = list(names)
    if not wanted:
        return
    admin = _admin(bootstrap, config)
    futures = admin.delete_topics(wanted, operation_timeout=timeout, request_timeout=timeout)
    for name, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            error = exc.args[0]
            if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                continue
            raise TopicError(f"could not delete topic {name}: {error.str()}") from None


def _admin(bootstrap: str, config: Mapping[str, str] | None) -> AdminClient:
    return AdminClient({**(config or {}), "bootstrap.servers": bootstrap})


def _listed(
    admin: AdminClient, bootstrap: str, created: list[str], timeout: float
) -> dict[str, int]:
    """The topics' partition counts once the broker's metadata lists every one `created`.

    A created topic reaches the metadata a moment after CreateTopics returns; a client that
    subscribes to it in that moment (Faust, right after `prepare_topics`) would not find it.
    """
    deadline = time.monotonic() + timeout
    while True:
        existing = _partitions(admin, bootstrap, timeout)
        absent = [name for name in created if name not in existing]
        if not absent:
            return existing
        if time.monotonic() >= deadline:
            raise TopicError(
                f"created {', '.join(absent)} but Kafka at {bootstrap} does not list "
                f"{'it' if len(absent) == 1 else 'them'} after {timeout:.0f} s"
            )
        time.sleep(0.05)


def _partitions(admin: AdminClient, bootstrap: str, timeout: float) -> dict[str, int]:
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise TransportError(
            f"Kafka at {bootstrap} did not answer within {timeout:.0f} s: {exc.args[0]}"
        ) from None
    return {name: len(topic.partitions) for name, topic in metadata.topics.items()}
