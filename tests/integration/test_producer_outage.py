"""No loss when Kafka is away: spooled while down, delivered once when back, even after kill -9.

The broker-down scenario stops and restarts a broker of its own (the session broker is shared);
the crash scenario points a subprocess at a port where nothing listens, kills it with SIGKILL
once its events are spooled, and lets a new client on the session broker deliver them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer

from dua.kafka import KafkaJars, LocalBroker, ensure_topics, free_ports
from dua_producer import AuditClient
from dua_schemas import WireCodec

pytestmark = pytest.mark.integration

SUBJECT_KEY = "outage-subject-key-0123456789"


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until true; fail the test naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def consumed_event_ids(bootstrap: str, topic: str, count: int, timeout: float = 90.0) -> list[str]:
    """Event ids of every message on `topic`, reading until `count` arrived and one idle poll."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    codec = WireCodec()
    ids: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None:
                if len(ids) >= count:
                    break  # everything expected, and then nothing more: no duplicates pending
                continue
            assert message.error() is None, message.error()
            ids.append(codec.decode(message.value()).record["event_id"])
    finally:
        consumer.close()
    return ids


def test_events_emitted_while_kafka_is_down_arrive_once_when_it_returns(
    own_broker: tuple[LocalBroker, KafkaJars, int, int], tmp_path: Path
) -> None:
    """Stop the broker, emit M events (spooled), start it: all M arrive, each exactly once."""
    broker, jars, port, controller_port = own_broker
    bootstrap = f"127.0.0.1:{port}"
    topic = f"test.outage.{uuid.uuid4().hex[:10]}"
    ensure_topics(bootstrap, [topic], partitions=2)
    client = AuditClient(
        subject_key=SUBJECT_KEY,
        service="jalan",
        bootstrap_servers=bootstrap,
        topic_raw=topic,
        spool_dir=tmp_path / "spool",
        delivery_timeout_s=5,
        replay_backoff_max_s=2,
        metrics=False,
    )
    try:
        before = [client.emit(["user.name"], subject=f"member-{i}") for i in range(20)]
        assert client.flush(timeout=30) == 0

        broker.stop()
        during = [client.emit(["user.name"], subject=f"member-{i}") for i in range(200)]
        wait_for(lambda: client.stats().spool_pending == 200, 60, "the 200 events to be spooled")
        assert client.stats().dropped == 0

        broker.start(jars, port=port, controller_port=controller_port, heap="384m")
        wait_for(lambda: client.stats().spool_pending == 0, 120, "the spool to be replayed")
        after = [client.emit(["user.name"], subject="member-x") for _ in range(20)]
        wait_for(lambda: client.stats().delivered == 240, 60, "the events emitted after")
    finally:
        client.close()

    emitted = before + during + after
    counts = Counter(consumed_event_ids(bootstrap, topic, len(emitted)))
    assert set(counts) == set(emitted)
    assert set(counts.values()) == {1}, "some events arrived more than once"


CRASHING_SERVICE = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from dua_producer import AuditClient

    bootstrap, topic, spool, out, count = sys.argv[1:6]
    client = AuditClient(
        subject_key=sys.argv[6], service="rikunabi", bootstrap_servers=bootstrap,
        topic_raw=topic, spool_dir=spool, delivery_timeout_s=3, metrics=False,
    )
    ids = [client.emit(["user.name"], subject=f"member-{i}") for i in range(int(count))]
    while client.stats().spool_pending < len(ids):
        time.sleep(0.05)
    Path(out + ".tmp").write_text(json.dumps(ids))
    Path(out + ".tmp").rename(out)
    time.sleep(600)  # killed with SIGKILL long before this ends
    """
)


def test_spooled_events_survive_kill_9_and_the_next_start_delivers_them(
    kafka_bootstrap: str, topic_factory: Callable[..., list[str]], tmp_path: Path
) -> None:
    """A service killed with SIGKILL while Kafka was unreachable loses nothing it spooled."""
    (topic,) = topic_factory("crash")
    spool = tmp_path / "spool"
    ids_file = tmp_path / "ids.json"
    (dead_port,) = free_ports(1)
    service = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CRASHING_SERVICE,
            f"127.0.0.1:{dead_port}",
            topic,
            str(spool),
            str(ids_file),
            "150",
            SUBJECT_KEY,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: ids_file.exists() or service.poll() is not None, 60, "the spooling")
        assert service.poll() is None, service.stderr.read().decode() if service.stderr else ""
        os.kill(service.pid, signal.SIGKILL)
        service.wait(10)
    finally:
        if service.poll() is None:
            service.kill()
            service.wait(10)
    assert service.returncode == -signal.SIGKILL
    emitted: list[str] = json.loads(ids_file.read_text())
    spooled_bytes = b"".join(p.read_bytes() for p in spool.glob("*.seg"))
    assert b"member-" not in spooled_bytes, "a raw subject id reached the spool"

    options: dict[str, Any] = {"subject_key": SUBJECT_KEY, "metrics": False}
    with AuditClient(
        service="rikunabi",
        bootstrap_servers=kafka_bootstrap,
        topic_raw=topic,
        spool_dir=spool,
        **options,
    ) as restarted:
        assert restarted.stats().spool_pending == 150
        wait_for(lambda: restarted.stats().spool_pending == 0, 120, "the replay after restart")
    counts = Counter(consumed_event_ids(kafka_bootstrap, topic, len(emitted)))
    assert set(counts) == set(emitted)
    assert set(counts.values()) == {1}
    assert list(spool.glob("*.seg")) == []
