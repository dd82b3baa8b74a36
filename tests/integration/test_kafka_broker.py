"""The local Kafka broker: topics, a produce/consume round trip, `dua kafka` end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from dua.kafka import (
    BrokerError,
    LocalBroker,
    cache_root,
    ensure_topics,
    resolve_jars,
    topic_partitions,
)
from dua.settings import Settings, load_settings

pytestmark = pytest.mark.integration

DUA = Path(sys.executable).with_name("dua")

# These tests start brokers of their own, whatever backend the session fixtures use.
needs_jvm = pytest.mark.skipif(
    not (shutil.which("java") and shutil.which("mvn")), reason="needs java and mvn on PATH"
)


def test_created_topics_have_the_requested_partitions(
    kafka_bootstrap: str, topic_factory: Callable[..., list[str]]
) -> None:
    """Topics made by topic_factory exist on the broker with the asked-for partition count."""
    three, five = topic_factory("three", partitions=3) + topic_factory("five", partitions=5)
    found = topic_partitions(kafka_bootstrap)
    assert found[three] == 3
    assert found[five] == 5


def test_ensure_topics_leaves_existing_topics_alone(
    kafka_bootstrap: str, topic_factory: Callable[..., list[str]]
) -> None:
    """A second ensure_topics with another count neither fails nor changes the existing topic."""
    (existing,) = topic_factory("existing", partitions=2)
    fresh = f"test.fresh.{uuid.uuid4().hex[:10]}"
    counts = ensure_topics(kafka_bootstrap, [existing, fresh], partitions=6)
    assert counts == {existing: 2, fresh: 6}
    assert topic_partitions(kafka_bootstrap)[fresh] == 6


def test_message_round_trip_through_the_broker(
    kafka_bootstrap: str, topic_factory: Callable[..., list[str]]
) -> None:
    """A keyed message with a header produced to partition 2 is consumed back unchanged."""
    (topic,) = topic_factory("round-trip", partitions=3)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    delivered: list[tuple[int, int]] = []

    def on_delivery(error: object, message: object) -> None:
        assert error is None, error
        delivered.append((message.partition(), message.offset()))  # type: ignore[attr-defined]

    producer.produce(
        topic,
        key=b"subject-key",
        value=b"payload",
        partition=2,
        headers=[("schema", b"v1")],
        on_delivery=on_delivery,
    )
    assert producer.flush(30) == 0
    assert delivered == [(2, 0)]

    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": f"test-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.subscribe([topic])
        message = None
        for _ in range(60):
            message = consumer.poll(1.0)
            if message is not None:
                break
        assert message is not None, "no message consumed within 60 polls"
        assert message.error() is None
        assert (message.partition(), message.key(), message.value()) == (
            2,
            b"subject-key",
            b"payload",
        )
        assert message.headers() == [("schema", b"v1")]
    finally:
        consumer.close()


def test_settings_factory_gives_fresh_existing_topics(
    kafka_bootstrap: str, settings_factory: Callable[..., Settings]
) -> None:
    """Every pipeline topic of a factory-made Settings exists, with the asked-for partitions."""
    first = settings_factory(partitions=2)
    second = settings_factory(partitions=2)
    assert first.kafka_bootstrap == kafka_bootstrap
    assert set(first.topics.names()).isdisjoint(second.topics.names())
    found = topic_partitions(kafka_bootstrap)
    assert all(found[name] == 2 for name in first.topics.names())


@needs_jvm
def test_broker_that_dies_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    """A JVM that cannot start (heap too small) fails start() with its own words; nothing stays."""
    jars = resolve_jars(load_settings().kafka_version, cache_root(os.environ))
    broker = LocalBroker(tmp_path / "kafka")
    with pytest.raises(BrokerError, match=r"exited with status \d+(.|\n)*heap"):
        broker.start(jars, heap="1k", timeout=60)
    assert broker.status() is None
    assert not broker.record_path.exists()


def _running(pid: int) -> bool:
    """Whether pid is a live process (a zombie whose parent has not reaped it is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


@needs_jvm
@pytest.mark.skipif(not Path("/proc/self").exists(), reason="checks processes through /proc")
def test_cli_up_status_down_leaves_no_broker_process(tmp_path: Path) -> None:
    """`dua kafka up`, `status`, `down` run a real broker and leave no process behind."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DUA_") or key == "DUA_CACHE_DIR"
    }
    env.update(DUA_STATE_DIR=str(tmp_path), DUA_KAFKA_HEAP="256m", DUA_TOPIC_PARTITIONS="3")

    def dua(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DUA), "kafka", *args],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    up = dua("up")
    try:
        assert up.returncode == 0, up.stderr
        pid = json.loads((tmp_path / "kafka" / "broker.json").read_text())["pid"]
        assert _running(pid)
        assert "topic dua.access.raw: 3 partitions" in up.stdout

        again = dua("up")
        assert again.returncode == 0, again.stderr
        assert "already runs at 127.0.0.1:" in again.stdout
        assert f"(pid {pid})" in again.stdout

        status = dua("status")
        assert status.returncode == 0, status.stderr
        assert f"pid {pid}" in status.stdout
        assert "dua.violations: 3 partitions" in status.stdout
    finally:
        down = dua("down")
    assert down.returncode == 0, down.stderr
    assert f"pid {pid}" in down.stdout
    assert not _running(pid)
    assert not (tmp_path / "kafka" / "broker.json").exists()
    assert dua("status").returncode == 1
    assert dua("down").returncode == 0
