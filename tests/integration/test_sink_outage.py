"""ClickHouse failing for a while: nothing is committed, nothing is lost, the sink catches up.

The fault is injected at the client boundary (`dua_sink.testing.FailingClient` raises
clickhouse-connect's own connection error); Kafka and chDB are real. The sink runs in a thread
of this process so the test can switch the fault on and off.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from dua_schemas import WireCodec
from dua_sink import BackoffPolicy, SinkConfig, SinkRecord, SinkTopics, run_sink
from dua_sink.connection import ClickHouseClient
from dua_sink.testing import FailingClient, tagged_event

pytestmark = pytest.mark.integration

CODEC = WireCodec()
PARTITIONS = 2
DEADLINE_S = 60.0


class RunningSink:
    """`run_sink` in a thread, with handles on its fault switch and its metrics."""

    def __init__(self, config: SinkConfig) -> None:
        self.config = config
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.record: SinkRecord | None = None
        self.client: FailingClient | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _wrap(self, client: ClickHouseClient) -> ClickHouseClient:
        self.client = FailingClient(client, failures=0)
        return self.client

    def _ready(self, record: SinkRecord) -> None:
        self.record = record
        self.ready.set()

    def _run(self) -> None:
        try:
            run_sink(self.config, self.stop, wrap_client=self._wrap, on_ready=self._ready)
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc
            self.ready.set()

    def has_metric(self, name: str) -> bool:
        return any(line.startswith(name) for line in self._scrape().splitlines())

    def metric(self, name: str) -> float:
        """Sum of a metric's samples, scraped from the sink's /metrics."""
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in self._scrape().splitlines()
            if line.startswith(name) and not line.startswith("#")
        )

    def _scrape(self) -> str:
        assert self.record is not None
        url = f"http://127.0.0.1:{self.record.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())


@pytest.fixture
def running_sink(
    kafka_bootstrap: str,
    topic_factory: Callable[..., list[str]],
    clickhouse_dsn: str,
    clickhouse_database: str,
    tmp_path: Path,
) -> Iterator[RunningSink]:
    tagged, violations, dlq = topic_factory("tagged", "violations", "dlq", partitions=PARTITIONS)
    config = SinkConfig(
        bootstrap=kafka_bootstrap,
        group=f"outage-{tmp_path.name}",
        topics=SinkTopics(tagged, violations, dlq),
        dsn=clickhouse_dsn,
        database=clickhouse_database,
        retention_days=3650,
        state_dir=tmp_path / "state",
        flush_interval_s=0.2,
        backoff=BackoffPolicy(initial_s=0.1, max_s=0.5),
    )
    sink = RunningSink(config)
    sink.thread.start()
    assert sink.ready.wait(DEADLINE_S)
    if sink.error is not None:
        raise sink.error
    yield sink
    sink.stop.set()
    sink.thread.join(DEADLINE_S)
    assert not sink.thread.is_alive()
    assert sink.error is None, sink.error


def _produce(bootstrap: str, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for index in range(count):
        producer.produce(topic, CODEC.encode("TaggedAccessEvent", tagged_event()), key=str(index))
    assert producer.flush(30) == 0


def _committed(config: SinkConfig) -> int:
    """Sum over partitions of the group's committed offsets (0 where none)."""
    consumer = Consumer({"bootstrap.servers": config.bootstrap, "group.id": config.group})
    try:
        partitions = [TopicPartition(config.topics.tagged, p) for p in range(PARTITIONS)]
        try:
            committed = consumer.committed(partitions, timeout=10)
        except KafkaException as exc:
            # A group coordinator still loading (a fresh broker, a loaded machine) answers
            # NOT_COORDINATOR: not known yet, asked again by `_eventually`.
            if exc.args[0].retriable() or exc.args[0].code() == KafkaError.NOT_COORDINATOR:
                return -1
            raise
        return sum(max(tp.offset, 0) for tp in committed)
    finally:
        consumer.close()


def _rows(chdb_client: Any, database: str) -> int:
    return int(chdb_client.command(f"SELECT count() FROM {database}.access_events"))


def _eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {what}")


def test_outage_commits_nothing_loses_nothing_and_catches_up(
    running_sink: RunningSink, chdb_client: Any, clickhouse_database: str
) -> None:
    """During the outage offsets stay put and partitions pause; afterwards every row lands once."""
    config = running_sink.config
    _produce(config.bootstrap, config.topics.tagged, 100)
    _eventually(lambda: _committed(config) == 100, "first 100 committed")
    assert _rows(chdb_client, clickhouse_database) == 100

    assert running_sink.client is not None
    running_sink.client.failures_left = 1_000_000  # ClickHouse goes away
    _produce(config.bootstrap, config.topics.tagged, 200)
    _eventually(
        lambda: running_sink.metric("dua_sink_insert_failures_total") >= 3, "three failed attempts"
    )
    assert running_sink.metric("dua_sink_paused") == 1
    assert _committed(config) == 100
    assert _rows(chdb_client, clickhouse_database) == 100

    running_sink.client.failures_left = 0  # and comes back
    _eventually(lambda: _committed(config) == 300, "all 300 committed")
    assert _rows(chdb_client, clickhouse_database) == 300
    hourly = f"SELECT sum(events) FROM {clickhouse_database}.access_hourly"
    assert int(chdb_client.command(hourly)) == 300
    assert running_sink.metric("dua_sink_paused") == 0
    assert running_sink.metric('dua_sink_rows_inserted_total{table="access_events"}') == 300
    lag = f'dua_sink_consumer_lag{{partition="0",topic="{config.topics.tagged}"}}'
    _eventually(lambda: running_sink.has_metric(lag), "lag reported for the tagged topic")
    _eventually(lambda: running_sink.metric(lag) == 0, "no lag once caught up")
