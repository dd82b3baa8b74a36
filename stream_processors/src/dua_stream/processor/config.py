"""What the processor is told at start: where Kafka is, its topics, and its tuning values.

Built once by the process that starts the worker (the `dua run processor` command, a test, a
benchmark) and passed down; nothing in the processor reads the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, TypeAlias

from dua_schemas import Topics
from dua_stream.processor.hold import CONSENT_GRACE_MS

# The five topics the processor reads and writes: the pipeline's, defined once in dua_schemas.
ProcessorTopics: TypeAlias = Topics

# What librdkafka's `compression.type` takes for the processor's outputs.
ProducerCompression: TypeAlias = Literal["none", "gzip", "snappy", "lz4", "zstd"]


@dataclass(frozen=True, slots=True)
class Tuning:
    """Batching, buffering and commit values; the defaults are the ones measured in bench/.

    See stream_processors/README.md for why each value is what it is. These are the only
    defaults: `dua run processor` takes each value from `DUA_PROCESSOR_<FIELD>`, whose setting
    (`dua.settings`) defaults to the value here.
    """

    # Batches produced but not yet confirmed by the broker; a full window pauses fetching.
    max_in_flight_batches: int = 4
    # aiokafka records returned per fetch: one fetch is one batch (decode, classify,
    # produce, then ack all).
    broker_max_poll_records: int = 5_000
    # Bytes aiokafka fetches ahead per partition (Faust's default is 1 MiB): a fetch is
    # ready when the batch before it is done, so the worker does not wait for the network.
    consumer_max_fetch_size: int = 4 * 1024 * 1024
    # Messages Faust buffers per stream before it pauses the topic (consent agent only).
    stream_buffer_maxsize: int = 8_192
    # Offsets are committed this often (seconds) or every `commit_every` acked messages.
    commit_interval_s: float = 2.0
    commit_every: int = 50_000
    # Rebalance timings. Heartbeats come from aiokafka's own thread, so a long batch does not
    # miss them: a dead (kill -9) worker's partitions move on after 10 s.
    session_timeout_s: float = 10.0
    heartbeat_interval_s: float = 1.0
    max_poll_interval_s: float = 300.0
    # Output producer (confluent-kafka): how long it waits to fill a batch, and its queue.
    producer_linger_ms: int = 20
    producer_queue_max_messages: int = 500_000
    producer_compression: ProducerCompression = "lz4"
    # How often the policy file is checked for a new version (seconds).
    policy_poll_s: float = 2.0
    # Re-identification entries whose newest time is this far behind the partition's newest
    # event time (plus the policy's window) are deleted; checked every `expiry_every_s`.
    expiry_grace_s: float = 60.0
    expiry_every_s: float = 30.0
    # The bounded prefix of a rejected payload kept in the DLQ record.
    dlq_prefix_bytes: int = 1024
    # Allocations between young-generation garbage collections (CPython's default is 700).
    # A batch holds thousands of short-lived records, so at 700 the collector runs several
    # times per batch and promotes records that are about to die; objects alive after
    # start-up are frozen out of collection altogether. 0 keeps CPython's settings.
    gc_young_threshold: int = 50_000
    # Raw records produced less than this long ago wait before they are classified, so that
    # consent changes produced before them are applied first (`hold.py`); a violation a
    # later consent change finds past this is marked as detected late (`recheck.py`).
    consent_grace_ms: int = CONSENT_GRACE_MS
    # How long a subject's consent history and its accesses kept for a re-check are kept.
    consent_retention_days: float = 30.0


@dataclass(frozen=True, slots=True)
class ProcessorConfig:
    """Everything one processor worker needs."""

    bootstrap: str
    app_id: str
    topics: ProcessorTopics
    partitions: int
    state_dir: Path
    policy_path: Path | None = None
    schema_registry_url: str | None = None
    metrics_port: int | None = None  # None: no /metrics endpoint
    metrics_host: str = "127.0.0.1"
    # librdkafka security settings (`security.protocol`, `sasl.*`, `ssl.ca.location`).
    kafka_security: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    tuning: Tuning = field(default_factory=Tuning)
    log_level: str = "info"
    # The `logging` format of every line once the worker runs, Faust's own included (Faust
    # replaces the root handlers when it starts); None keeps Faust's format.
    log_format: str | None = None


def logging_level(name: str) -> str:
    """The `logging` level name of a `--log-level` choice (`warn` is `WARNING` there)."""
    level = name.upper()
    return "WARNING" if level == "WARN" else level
