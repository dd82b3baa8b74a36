"""Events per second through the stream processor, beside a consumer that only decodes.

Run: `.venv/bin/python bench/pipeline_processor.py [--events 200000]`, or call `run(n)`.

Kafka: `DUA_KAFKA_BOOTSTRAP` when set, else a `LocalBroker` of this run's own (stopped after)
with Kafka's default group join delay (3 s), so that K workers join their group together.
In one run, on one fresh 4-partition raw topic holding N pre-produced DataAccessEvents (the
mix of bench/classify.py: seed services and purposes, about a fifth violating):

* ceiling: a plain confluent-kafka consumer reads the topic from the start and only decodes
  each message (the processor's own fastest decoder), nothing else;
* processor: `dua run processor --workers K` as a subprocess (its defaults, metrics off: K
  worker processes in one consumer group) on the same topic, timed from the moment the group
  is stable to the N-th tagged output confirmed on the tagged topic (start-up and group join
  are not counted; everything after is: fetch, decode, validate, classify, state changelog,
  encode, produce and confirm, acknowledge);
* processor, steady: the same run from the moment a quarter of the N outputs is confirmed to
  the N-th. Should a worker join late (a broker without the join delay, e.g. the tests'),
  the first one starts alone and hands partitions over when the others join, and each
  joiner rebuilds the tables of the partitions it receives before it processes them; in a
  run of a few seconds that pause weighs heavily. The steady rate leaves most of it out.

* I/O bound: the same K workers with the per-event work taken out (bench/io_bound_worker.py:
  the product's worker, whose batches copy each raw message to the output topics instead of
  processing it, as many outputs per input as the processor makes). Timed like the
  processor, on fresh output topics. No per-event work, however fast, can take the
  processor past this on this machine: it is what Faust's consumer, the producer, the
  delivery reports and the broker cost together.
* work bound: the processor's own per-event work with no Kafka at all: `BatchProcessor`
  (decode, validate, classify, state, encode the tagged event and violations) over the same
  payloads in memory, in batches of 5,000 (a full fetch), on one core, before the broker
  starts. No processor can exceed this rate on one core, whatever its consumer does.

The ratio processor/ceiling says what classification and the at-least-once output path cost
on top of the cheapest possible pass over the same messages; I/O bound/ceiling says how much
of that the output path alone (no per-event work) costs here, and processor/I/O bound how
much of what is left the per-event work takes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, ConsumerGroupState, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from dua.kafka import LocalBroker, cache_root, ensure_topics, resolve_jars
from dua.settings import load_settings
from dua_policy import Engine, load_policy
from dua_schemas import DATA_ACCESS_EVENT, WireCodec
from dua_stream.processor import BatchProcessor, ProcessorTopics, RecordCodec, TableState

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/…` too
from bench.classify import generate
from bench.sdk import produce_all

PARTITIONS = 4
TIMEOUT_S = 600.0
WORK_BATCH = 5_000  # Tuning.broker_max_poll_records: one full fetch
ROOT = Path(__file__).resolve().parent.parent
KAFKA_GROUP_JOIN_DELAY_MS = 3_000  # Kafka's default group.initial.rebalance.delay.ms


@contextmanager
def kafka(group_join_delay_ms: int = 0) -> Iterator[str]:
    """DUA_KAFKA_BOOTSTRAP, else a local broker started (and stopped) for this run.

    `group_join_delay_ms`: the local broker's wait for more members of a new group (see
    `LocalBroker.start`)."""
    external = os.environ.get("DUA_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="dua-bench-kafka-") as home:
        broker = LocalBroker(Path(home))
        jars = resolve_jars(settings.kafka_version, cache_root(os.environ))
        record = broker.start(jars, group_join_delay_ms=group_join_delay_ms)
        try:
            yield record.bootstrap
        finally:
            broker.stop()


def _messages(n: int) -> list[tuple[bytes, bytes]]:
    """(key, value) of the benchmark's `n` raw events, as the SDK frames them."""
    codec = WireCodec()
    return [
        (
            (event["subject_id"] or event["event_id"]).encode(),
            codec.encode(DATA_ACCESS_EVENT, dict(event)),
        )
        for event in generate(n)
    ]


@dataclass(frozen=True, slots=True)
class _InMemory:
    """A consumed message without a consumer (what `BatchProcessor` reads of one)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def work_bound(messages: list[tuple[bytes, bytes]]) -> tuple[float, float, float]:
    """Events/s of the processor's per-event work alone (`BatchProcessor` on in-memory
    input), the outputs it makes per input, and the state's bytes per subject it holds."""
    topics = ProcessorTopics("raw", "consent", "tagged", "violations", "dlq")
    changelogs = {"consent": "consent-changelog", "reidentification": "reid-changelog"}
    engine = Engine(load_policy())
    consent: dict[str, Any] = {}
    reidentification: dict[str, Any] = {}
    batch = BatchProcessor(
        RecordCodec(WireCodec()),
        topics,
        TableState(consent, reidentification),
        lambda: engine,
        changelogs,
    )
    inputs = [
        _InMemory("raw", i % PARTITIONS, i, key, value) for i, (key, value) in enumerate(messages)
    ]
    started = time.perf_counter()
    outputs = 0
    for start in range(0, len(inputs), WORK_BATCH):
        now = datetime.now(UTC)
        outputs += len(batch.process((), inputs[start : start + WORK_BATCH], now).outputs)
    elapsed = time.perf_counter() - started
    if outputs < len(inputs):
        raise RuntimeError(f"the in-memory processor made {outputs} outputs of {len(inputs)}")
    stores = (consent, reidentification)
    subjects = {key.split(":", 1)[1] for store in stores for key in store}
    held = sum(
        _deep_size(key) + _deep_size(value) for store in stores for key, value in store.items()
    )
    return len(inputs) / elapsed, outputs / len(inputs), held / max(1, len(subjects))


def _deep_size(value: Any) -> int:
    """Bytes of a JSON-like value with everything it holds (`sys.getsizeof`, recursively)."""
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(_deep_size(k) + _deep_size(v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        size += sum(_deep_size(item) for item in value)
    return size


def _produce(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 20, "compression.type": "lz4"}
    )
    produce_all(producer, topic, messages)
    if producer.flush(120) != 0:
        raise RuntimeError("could not produce the benchmark's events")


def ceiling(bootstrap: str, topic: str, n: int) -> float:
    """Events/s of a confluent-kafka consumer that only decodes, from first message to N-th."""
    codec = RecordCodec(WireCodec())
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-ceiling-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    seen, started = 0, 0.0
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while seen < n and time.monotonic() < deadline:
            for message in consumer.consume(5_000, 1.0):
                if message.error() is not None:
                    continue
                if not started:
                    started = time.perf_counter()
                codec.decode(message.value() or b"", DATA_ACCESS_EVENT)
                seen += 1
        elapsed = time.perf_counter() - started
    finally:
        consumer.close()
    if seen < n:
        raise RuntimeError(f"ceiling consumer saw {seen} of {n} events")
    return n / elapsed


def _confirmed(consumer: Consumer, topic: str) -> int:
    total = 0
    for partition in range(PARTITIONS):
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), 5.0)
        total += max(high, 0)
    return total


def _stable_members(admin: AdminClient, group: str) -> int:
    """Members of `group` once it is Stable (0 while it rebalances or does not exist)."""
    try:
        description = admin.describe_consumer_groups([group])[group].result(timeout=5)
    except KafkaException:
        return 0
    if description.state != ConsumerGroupState.STABLE:
        return 0
    return len(description.members)


def processor(
    bootstrap: str,
    topics: dict[str, str],
    n: int,
    state_dir: Path,
    workers: int = 1,
    *,
    io_bound_outputs: float | None = None,
) -> tuple[float, float]:
    """Events/s of `workers` processors in one group: from a stable group to the N-th output,
    and steady (from the N/4-th output to the N-th).

    Timing starts when the consumer group is Stable with every worker in it (start-up, joins
    and the first rebalance are not counted; outputs already confirmed then are subtracted).
    `io_bound_outputs`: run the I/O-bound workers instead (that many outputs per input).
    """
    app_id = f"bench-processor-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DUA_KAFKA_BOOTSTRAP": bootstrap,
        "DUA_PROCESSOR_APP_ID": app_id,
        "DUA_PROCESSOR_METRICS_PORT": "0",
        **{f"DUA_TOPIC_{role.upper()}": name for role, name in topics.items()},
    }
    dua = Path(sys.executable).with_name("dua")
    watcher = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-watch"})
    admin = AdminClient({"bootstrap.servers": bootstrap})
    if io_bound_outputs is None:
        # one `dua run processor --workers K`: the product's own pool of K worker processes
        commands = [
            [str(dua), "run", "processor", "--workers", str(workers), "--log-level", "warn"]
        ]
    else:
        commands = [
            [
                *(sys.executable, "-m", "bench.io_bound_worker"),
                *("--worker-index", str(index), "--outputs-per-event", str(io_bound_outputs)),
            ]
            for index in range(workers)
        ]
    processes = [
        subprocess.Popen(
            command,
            env={**env, "DUA_STATE_DIR": str(state_dir)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in commands
    ]
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while _stable_members(admin, app_id) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{workers} workers did not form a stable group")
            time.sleep(0.05)
        started, before = time.perf_counter(), _confirmed(watcher, topics["tagged"])
        quarter: tuple[float, int] | None = None
        while time.monotonic() < deadline:
            confirmed, now = _confirmed(watcher, topics["tagged"]), time.perf_counter()
            if quarter is None and confirmed >= n // 4:
                quarter = (now, confirmed)
            if confirmed >= n:
                steady_from, steady_before = quarter or (started, before)
                if steady_before >= n:  # all of it came before the first look
                    steady_from, steady_before = started, before
                return (n - before) / (now - started), (n - steady_before) / (now - steady_from)
            for worker in processes:
                if worker.poll() is not None:
                    raise RuntimeError(f"a processor exited with status {worker.returncode}")
            time.sleep(0.05)
        raise RuntimeError(f"the processor did not tag {n} events within {TIMEOUT_S:.0f} s")
    finally:
        for worker in processes:
            worker.terminate()
        for worker in processes:
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        watcher.close()


def run(n: int = 200_000, workers: int = 1) -> dict[str, Any]:
    """Ceiling, processor and its bounds on the same `n` events; returns them and the ratios."""
    suffix = uuid.uuid4().hex[:8]
    roles = ("raw", "consent", "tagged", "violations", "dlq")
    topics = {role: f"bench.{role}.{suffix}" for role in roles}
    # the I/O bound reads the same input; its outputs go to topics of their own
    io_topics = {**topics, **{role: f"bench.io-{role}.{suffix}" for role in roles[2:]}}
    messages = _messages(n)
    # Before the broker starts, so the in-memory loop has the core to itself.
    bound_rate, outputs_per_event, state_per_subject = work_bound(messages)
    # Kafka's own default group join delay, as a production broker has: a pool's workers
    # join their group together (at 0 the first one starts alone and hands partitions over
    # as the others join, which in a run of seconds decides the figure).
    with (
        kafka(group_join_delay_ms=KAFKA_GROUP_JOIN_DELAY_MS) as bootstrap,
        tempfile.TemporaryDirectory(prefix="dua-bench-proc-") as tmp,
    ):
        ensure_topics(bootstrap, {*topics.values(), *io_topics.values()}, partitions=PARTITIONS)
        _produce(bootstrap, topics["raw"], messages)
        ceiling_rate = ceiling(bootstrap, topics["raw"], n)
        processor_rate, steady_rate = processor(bootstrap, topics, n, Path(tmp), workers)
        io_rate, io_steady = processor(
            bootstrap, io_topics, n, Path(tmp) / "io", workers, io_bound_outputs=outputs_per_event
        )
    return {
        "events": n,
        "partitions": PARTITIONS,
        "processor_workers": workers,
        "ceiling_decode_only_per_s": round(ceiling_rate),
        "work_bound_per_s": round(bound_rate),
        "outputs_per_event": round(outputs_per_event, 3),
        # consent history, accesses kept for a consent re-check, re-identification windows
        "state_bytes_per_subject": round(state_per_subject),
        "io_bound_per_s": round(io_rate),
        "io_bound_steady_per_s": round(io_steady),
        "processor_per_s": round(processor_rate),
        "processor_steady_per_s": round(steady_rate),
        "ratio_processor_to_ceiling": round(processor_rate / ceiling_rate, 3),
        "ratio_steady_to_ceiling": round(steady_rate / ceiling_rate, 3),
        "ratio_io_bound_to_ceiling": round(io_rate / ceiling_rate, 3),
        "ratio_processor_to_io_bound": round(processor_rate / io_rate, 3),
        "ratio_work_bound_to_ceiling": round(bound_rate / ceiling_rate, 3),
        "ratio_processor_to_work_bound": round(processor_rate / bound_rate, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=1, help="processor processes (one group)")
    args = parser.parse_args()
    print(json.dumps(run(args.events, args.workers), indent=2))


if __name__ == "__main__":
    main()
