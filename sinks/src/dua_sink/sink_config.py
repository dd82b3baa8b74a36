"""Everything `dua run sink` needs, as one frozen value built where the process starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dua_sink.backoff import BackoffPolicy
from dua_sink.routing import SinkTopics

# Messages fetched per consume() call: large enough to fill a batch quickly, small enough that
# a flush due now is not delayed long.
CONSUME_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class SinkConfig:
    """Kafka side, ClickHouse side, batching and ports of the sink."""

    bootstrap: str
    group: str
    topics: SinkTopics
    dsn: str
    database: str
    retention_days: int
    state_dir: Path
    # The emit-to-queryable latency is mostly this wait (sinks/README.md, docs/performance.md).
    flush_interval_s: float = 0.25
    batch_max_rows: int = 100_000
    max_buffered_rows: int = 400_000
    query_port: int = 0
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    # librdkafka login settings (security.protocol, sasl.*) from the application's settings.
    kafka_options: Mapping[str, str] = field(default_factory=dict)
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    shutdown_grace_s: float = 15.0

    def consumer_config(self) -> dict[str, Any]:
        """librdkafka settings: offsets are committed by the sink itself, after the insert."""
        return {
            **self.kafka_options,
            "bootstrap.servers": self.bootstrap,
            "group.id": self.group,
            "client.id": f"dua-sink-{self.group}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            # Records of an aborted processor transaction are never audit rows.
            "isolation.level": "read_committed",
            "enable.partition.eof": False,
            # A sink that died is replaced after this long (a restart waits for it to pass).
            "session.timeout.ms": 10_000,
            "heartbeat.interval.ms": 2_000,
        }
