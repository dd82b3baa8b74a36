"""Fixtures shared by the integration tests: a processor to start, a broker to stop."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dua.kafka import KafkaJars, LocalBroker, cache_root, free_ports, resolve_jars
from dua.settings import Settings, load_settings

from .processor_harness import ProcessorProcess


@pytest.fixture
def unstarted_processor(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> Iterator[tuple[Settings, ProcessorProcess]]:
    """Settings with 2-partition topics, and a processor on them the test starts itself
    (after it has written its input); stopped at the end if it was started."""
    settings = settings_factory(partitions=2)
    worker = ProcessorProcess(settings, tmp_path)
    try:
        yield settings, worker
    finally:
        if worker.process is not None:
            worker.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[tuple[LocalBroker, KafkaJars, int, int]]:
    """A broker only this test stops and starts, on fixed ports so clients can reconnect."""
    jars = resolve_jars(load_settings().kafka_version, cache_root(os.environ))
    broker = LocalBroker(tmp_path / "own-kafka")
    port, controller_port = free_ports(2)
    broker.start(jars, port=port, controller_port=controller_port, heap="384m")
    try:
        yield broker, jars, port, controller_port
    finally:
        broker.stop()
