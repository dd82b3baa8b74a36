"""Rows per second through the sink into chDB, beside one bulk insert of the same rows.

Run: `.venv/bin/python bench/sink.py [--rows N]`, or call `run(n)` (in a process that has not
opened chDB) or `run_in_child(n)`.

Kafka: `DUA_KAFKA_BOOTSTRAP` when set, else a `LocalBroker` of this run's own (stopped after).
In one run, on one temporary chDB directory:

* sink: the sink (`run_sink`, default batching) starts on a fresh 4-partition topic and is
  sent one warm-up event, so its consumer group has joined (start-up, not work: the Kafka
  engine peer of `make bench` is timed past its join too); then N TaggedAccessEvents are
  produced and the sink consumes, builds rows, batches, inserts with dedup tokens and commits;
  timed from the first of the N produced to the N-th row visible;
* bulk: the same rows, already decoded, in ONE `client.insert` into a second database with the
  same schema (materialized views included): the engine's own speed on this schema.

The ratio sink/bulk says what the streaming path (Kafka, Avro decoding, per-partition batches,
tokens, commits) costs compared with the cheapest possible load of the same rows.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from dua.kafka import LocalBroker, cache_root, ensure_topics, resolve_jars
from dua.settings import load_settings
from dua_schemas import WireCodec
from dua_sink import RecordRouter, SinkConfig, SinkTopics, connect, migrate, run_sink
from dua_sink.row_mapping import Source
from dua_sink.tables import ACCESS_EVENT_COLUMNS
from dua_sink.testing import tagged_event, violation_summary

SEED = 20261129
T0 = datetime(2026, 11, 1, tzinfo=UTC)
SERVICES = [
    "zexy-enmusubi",
    "hotpepper-beauty",
    "carsensor",
    "jalan",
    "hotpepper-gourmet",
    "rikunabi",
    "airwork-payroll",
]
SHAPES: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "service.user_messaging",
        [("user.account.id", "personal"), ("user.content.message", "personal")],
    ),
    (
        "service.payroll_transfer",
        [
            ("user.name", "personal"),
            ("user.financial.salary", "personal"),
            ("user.financial.bank_account", "personal"),
        ],
    ),
    (
        "research.profiling",
        [
            ("user.behavior.usage_history", "informative"),
            ("user.behavior.browsing_history", "informative"),
        ],
    ),
    (
        "marketing.targeted_advertising",
        [("user.behavior.browsing_history", "informative"), ("user.device.ad_id", "informative")],
    ),
    ("improvement.support_quality", [("user.content.review", "informative")]),
]


@contextmanager
def kafka() -> Iterator[str]:
    """DUA_KAFKA_BOOTSTRAP, else a local broker started (and stopped) for this run."""
    external = os.environ.get("DUA_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="dua-bench-kafka-") as home:
        broker = LocalBroker(Path(home))
        record = broker.start(resolve_jars(settings.kafka_version, cache_root(os.environ)))
        try:
            yield record.bootstrap
        finally:
            broker.stop()


def _events(n: int) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    events = []
    for i in range(n):
        purpose, elements = rng.choice(SHAPES)
        at = T0 + timedelta(seconds=i)
        events.append(
            tagged_event(
                event_id=str(uuid.UUID(int=rng.getrandbits(128))),
                occurred_at=at,
                processed_at=at,
                service=rng.choice(SERVICES),
                subject_id=f"{rng.randrange(20_000):064x}",
                purpose=purpose,
                purpose_category=purpose.split(".")[0],
                elements=[{"code": c, "category": k, "sensitivity": None} for c, k in elements],
                violations=[violation_summary("purpose_not_permitted", "medium")]
                if rng.random() < 0.2
                else [],
            )
        )
    return events


def _produce(bootstrap: str, topic: str, payloads: list[bytes]) -> None:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 20, "compression.type": "lz4"}
    )
    for index, payload in enumerate(payloads):
        while True:
            try:
                producer.produce(topic, payload, key=str(index).encode())
                break
            except BufferError:
                producer.poll(0.05)
    if producer.flush(60) != 0:
        raise RuntimeError("could not produce the benchmark's records")


def _count(client: Any, database: str) -> int:
    return int(client.command(f"SELECT count() FROM {database}.access_events"))


def _wait_for(client: Any, rows: int) -> None:
    deadline = time.monotonic() + 600
    while _count(client, "bench_sink") < rows:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the sink did not write {rows} rows in 600 s")
        time.sleep(0.02)


def run(n: int = 50_000) -> dict[str, Any]:
    """Sink and bulk load of `n` tagged events; returns the timings and the ratio."""
    codec = WireCodec()
    payloads = [codec.encode("TaggedAccessEvent", event) for event in _events(n)]
    with kafka() as bootstrap, tempfile.TemporaryDirectory(prefix="dua-bench-sink-") as tmp:
        suffix = uuid.uuid4().hex[:8]
        topics = SinkTopics(
            f"bench.tagged.{suffix}", f"bench.violations.{suffix}", f"bench.dlq.{suffix}"
        )
        ensure_topics(bootstrap, topics.names(), partitions=4)
        dsn = f"chdb://{Path(tmp) / 'clickhouse'}"
        config = SinkConfig(
            bootstrap=bootstrap,
            group=f"bench-{suffix}",
            topics=topics,
            dsn=dsn,
            database="bench_sink",
            retention_days=3650,
            state_dir=Path(tmp) / "state",
        )
        stop, ready = threading.Event(), threading.Event()
        thread = threading.Thread(
            target=run_sink, args=(config, stop), kwargs={"on_ready": lambda _r: ready.set()}
        )
        thread.start()
        if not ready.wait(120):
            raise RuntimeError("the sink did not start")
        client = connect(dsn)
        _produce(bootstrap, topics.tagged, payloads[:1])
        _wait_for(client, 1)
        started = time.perf_counter()
        _produce(bootstrap, topics.tagged, payloads[1:])
        _wait_for(client, n)
        sink_s = time.perf_counter() - started
        stop.set()
        thread.join(60)

        # The same rows, decoded beforehand, in one insert into a fresh copy of the schema.
        router = RecordRouter(topics, codec)
        when = datetime.now(UTC)
        decode_started = time.perf_counter()
        rows = [
            router.route(Source(topics.tagged, 0, i, when), p, None).row
            for i, p in enumerate(payloads)
        ]
        decode_s = time.perf_counter() - decode_started
        migrate(client, "bench_bulk", retention_days=3650)
        bulk_started = time.perf_counter()
        client.insert("bench_bulk.access_events", rows, column_names=ACCESS_EVENT_COLUMNS)
        bulk_s = time.perf_counter() - bulk_started
        assert _count(client, "bench_bulk") == n
        client.close()
    return {
        "rows": n,
        "sink_s": round(sink_s, 3),
        "sink_rows_per_s": round((n - 1) / sink_s),
        "bulk_insert_s": round(bulk_s, 3),
        "bulk_rows_per_s": round(n / bulk_s),
        "ratio_sink_to_bulk": round(((n - 1) / sink_s) / (n / bulk_s), 3),
        "decode_us_per_row": round(decode_s / n * 1e6, 1),
    }


def run_in_child(n: int = 50_000) -> dict[str, Any]:
    """`run(n)` in a fresh Python process: chDB lets a process open one data directory."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.sink", "--rows", str(n)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the sink benchmark failed:\n{done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout[done.stdout.index("{") :])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    print(json.dumps(run(args.rows), indent=2))


if __name__ == "__main__":
    main()
