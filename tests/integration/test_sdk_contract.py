"""The Java, TypeScript and Go SDKs against the real local broker: one contract, every SDK.

Each test runs once per SDK (`scripted_program`): a scripted service using that SDK emits;
Python stops and starts the broker, kills the service, and reads the topic back with
confluent-kafka: every event decoded, counted, each exactly once. The broker-down test stops and
restarts a broker of its own (`own_broker`); the crash test points the first service at a
dead port.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from dua.kafka import KafkaJars, LocalBroker, ensure_topics, free_ports

from .sdk_service import ScriptedProgram, ScriptedService
from .test_producer_outage import consumed_event_ids, wait_for

pytestmark = pytest.mark.integration

SUBJECT_KEY = "sdk-contract-subject-key-0123456789"


def assert_each_once(bootstrap: str, topic: str, emitted: list[str]) -> None:
    """Every emitted event id is on `topic` exactly once, and nothing else is."""
    counts = Counter(consumed_event_ids(bootstrap, topic, len(emitted)))
    assert set(counts) == set(emitted)
    assert set(counts.values()) == {1}, "some events arrived more than once"


def test_every_event_the_sdk_emits_is_consumed_once(
    scripted_program: ScriptedProgram,
    kafka_bootstrap: str,
    topic_factory: Callable[..., list[str]],
    tmp_path: Path,
) -> None:
    """N events emitted by the SDK are N events on the topic, each decodable by Python."""
    (topic,) = topic_factory(f"{scripted_program.language.name}-sdk")
    service = ScriptedService(
        scripted_program, kafka_bootstrap, topic, tmp_path / "spool", SUBJECT_KEY, tmp_path / "log"
    )
    try:
        emitted = service.emit(500)
        assert service.ask("flush 60000") == "0"
        stats = service.stats()
    finally:
        service.close()
    assert stats["delivered"] == 500
    assert stats["spooled"] == 0
    assert_each_once(kafka_bootstrap, topic, emitted)


def test_sdk_spools_while_kafka_is_down_and_delivers_once_when_it_returns(
    scripted_program: ScriptedProgram,
    own_broker: tuple[LocalBroker, KafkaJars, int, int],
    tmp_path: Path,
) -> None:
    """Stop the broker, emit 200 (spooled), start it: everything arrives, each exactly once."""
    broker, jars, port, controller_port = own_broker
    bootstrap = f"127.0.0.1:{port}"
    topic = f"test.{scripted_program.language.name}-outage"
    ensure_topics(bootstrap, [topic], partitions=2)
    service = ScriptedService(
        scripted_program,
        bootstrap,
        topic,
        tmp_path / "spool",
        SUBJECT_KEY,
        tmp_path / "log",
        quick_failure=True,
    )
    try:
        before = service.emit(20)
        assert service.ask("flush 30000") == "0"
        # none, unless the young broker was slower than the quick timeouts (a loaded machine)
        early = service.stats()["spooled"]

        broker.stop()
        during = service.emit(200)
        assert service.ask("flush 60000") == "0"  # settled: all 200 are on disk
        stats = service.stats()
        assert (stats["spooled"], stats["dropped"]) == (early + 200, 0)

        broker.start(jars, port=port, controller_port=controller_port, heap="384m")
        assert service.ask("await-drained 120000") == "0"
        after = service.emit(20)
        assert service.ask("flush 30000") == "0"
        # A send right after the broker's return may still fail and spool (a loaded machine):
        # then the spool delivers it, once, like the rest.
        assert service.ask("await-drained 120000") == "0"
        stats = service.stats()
        assert (stats["delivered"], stats["dropped"]) == (240, 0)
        assert stats["replayed"] >= early + 200
    finally:
        service.close()
    assert_each_once(bootstrap, topic, before + during + after)


def test_sdk_spool_survives_kill_9_and_the_next_start_delivers_it(
    scripted_program: ScriptedProgram,
    kafka_bootstrap: str,
    topic_factory: Callable[..., list[str]],
    tmp_path: Path,
) -> None:
    """A service killed with SIGKILL while Kafka was unreachable loses nothing it spooled."""
    (topic,) = topic_factory(f"{scripted_program.language.name}-crash")
    spool = tmp_path / "spool"
    (dead_port,) = free_ports(1)
    doomed = ScriptedService(
        scripted_program,
        f"127.0.0.1:{dead_port}",
        topic,
        spool,
        SUBJECT_KEY,
        tmp_path / "log-1",
        quick_failure=True,
    )
    try:
        emitted = doomed.emit(150)
        assert doomed.ask("await-spooled 150 60000") == "150"
    finally:
        killed = doomed.kill()
    assert killed == -signal.SIGKILL
    spooled_bytes = b"".join(p.read_bytes() for p in spool.glob("*.seg"))
    assert spooled_bytes, "nothing was spooled"
    assert b"member-" not in spooled_bytes, "a raw subject id reached the spool"

    restarted = ScriptedService(
        scripted_program, kafka_bootstrap, topic, spool, SUBJECT_KEY, tmp_path / "log-2"
    )
    try:
        wait_for(lambda: restarted.ask("spooled") == "0", 120, "the replay after the restart")
        assert restarted.stats()["replayed"] == 150
    finally:
        restarted.close()
    assert_each_once(kafka_bootstrap, topic, emitted)
    assert list(spool.glob("*.seg")) == []
