"""Cost of the SDK's `emit` per event and its throughput, beside raw confluent-kafka produce.

Run: `.venv/bin/python bench/sdk.py [--events N] [--repeat R] [--all-cores]`, or call `run(n)`.

Kafka: `DUA_KAFKA_BOOTSTRAP` when set, else a `LocalBroker` of this run's own (stopped after).
In the same run, against the same broker, with the same producer settings (idempotence,
acks=all, lz4, linger) and fresh topics:

* raw: `Producer.produce` of pre-encoded (key, value) pairs, the very bytes the SDK sends;
* raw tracked: the same with a delivery report per message (a callback that only counts):
  the least a producer that must know what was delivered (to spool the rest) pays;
* sdk: `AuditClient.emit` over a realistic mix (6 call-site shapes, 5,000 subjects);
* sdk prepared: `PreparedAccess.emit` (a call site prepared once, as `@audited` does);
* sdk traced: `emit` with a trace id and a record count on every event.

For each: the caller's cost (emit loop) and the total until `flush` returned, per event, and
the process CPU time per event (all threads, librdkafka's included). By default the process
is pinned to one CPU, so events/s is "on one core". Targets: the SDK's total per event at
most twice raw's; at least 50,000 events/s.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Final

from confluent_kafka import Producer

from dua.kafka import LocalBroker, cache_root, ensure_topics, resolve_jars
from dua.settings import load_settings
from dua_producer import AuditClient, MemoryTransport
from dua_producer.kafka_transport import producer_settings

SUBJECTS: Final = 5_000
TARGET_RATIO: Final = 2.0
TARGET_PER_S: Final = 50_000
SUBJECT_KEY: Final = "bench-subject-key-0123456789"

# (elements, purpose, fixed fields): call sites of a service, as DOMAIN.md's purposes go.
SHAPES: Final[list[tuple[list[str], str | None, dict[str, Any]]]] = [
    (["user.name", "user.contact.email"], "service.inquiry_response", {}),
    (["user.account.id", "user.behavior.usage_history"], "service.points_program", {}),
    (
        ["user.behavior.browsing_history", "user.device.ad_id"],
        "marketing.targeted_advertising",
        {"destination": "AD_PLATFORM", "destination_name": "ads"},
    ),
    (
        ["user.behavior.usage_history", "user.behavior.browsing_history"],
        "research.profiling",
        {"processing": "PSEUDONYMIZED"},
    ),
    (["user.account.id", "user.content.message"], "service.user_messaging", {}),
    (["user.content.review"], "improvement.support_quality", {"processing": "STATISTICAL"}),
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


@contextmanager
def _pinned(one_core: bool) -> Iterator[None]:
    """Run on one CPU (the broker, started before, is not pinned); restore the affinity after.

    Entered before any producer exists, so librdkafka's threads inherit the affinity.
    """
    if not one_core or not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _client(spool: Path, **settings: Any) -> AuditClient:
    return AuditClient(
        subject_key=SUBJECT_KEY, service="hotpepper-gourmet", spool_dir=spool, **settings
    )


def _calls(n: int) -> list[tuple[int, str]]:
    """(shape index, raw subject id) of each event, the same in every variant."""
    return [(i % len(SHAPES), f"member-{(i * 7919) % SUBJECTS:05d}") for i in range(n)]


def _messages(calls: list[tuple[int, str]], spool: Path) -> list[tuple[bytes, bytes]]:
    """The (key, value) pairs the SDK sends for `calls`, to give raw produce the same bytes."""
    transport = MemoryTransport()
    with _client(spool, transport=transport, metrics=False) as client:
        for shape, subject in calls:
            elements, purpose, fields = SHAPES[shape]
            client.emit(elements, purpose, subject=subject, **fields)
    return [(m.key, m.value) for m in transport.messages]


def _measure(n: int, emit_all: Callable[[], None], flush: Callable[[], None]) -> dict[str, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    emit_all()
    call = time.perf_counter() - wall
    flush()
    total = time.perf_counter() - wall
    return {
        "call_us": call / n * 1e6,
        "total_us": total / n * 1e6,
        "cpu_us": (time.process_time() - cpu) / n * 1e6,
    }


def run(n: int = 100_000, repeat: int = 3, *, one_core: bool = True) -> dict[str, Any]:
    """Measure (best of `repeat` per variant); return the figures and the targets' verdicts."""
    calls = _calls(n)
    with (
        kafka() as bootstrap,
        _pinned(one_core),
        tempfile.TemporaryDirectory(prefix="dua-bench-spool-") as tmp,
    ):
        spool = Path(tmp)
        messages = _messages(calls, spool / "capture")
        raw_topic, sdk_topic = (f"bench.{name}.{uuid.uuid4().hex[:8]}" for name in ("raw", "sdk"))
        ensure_topics(bootstrap, [raw_topic, sdk_topic], partitions=4)
        client = _client(
            spool / "sdk", bootstrap_servers=bootstrap, topic_raw=sdk_topic, metrics=False
        )
        settings = producer_settings(client.config)
        settings.pop("logger")
        producer = Producer(settings)
        reports = [0]

        def count_report(_err: Any, _msg: Any) -> None:
            reports[0] += 1

        tracked_producer = Producer({**settings, "on_delivery": count_report})
        prepared = [
            client.prepare(elements, purpose, **fields) for elements, purpose, fields in SHAPES
        ]

        def raw() -> None:
            produce_all(producer, raw_topic, messages)

        def raw_tracked() -> None:
            produce_all(tracked_producer, raw_topic, messages)

        def sdk() -> None:
            for shape, subject in calls:
                elements, purpose, fields = SHAPES[shape]
                client.emit(elements, purpose, subject=subject, **fields)

        def sdk_prepared() -> None:
            for shape, subject in calls:
                prepared[shape].emit(subject)

        def sdk_traced() -> None:
            for i, (shape, subject) in enumerate(calls):
                elements, purpose, fields = SHAPES[shape]
                client.emit(
                    elements,
                    purpose,
                    subject=subject,
                    trace_id=f"trace-{i:08x}",
                    record_count=1 + i % 5,
                    **fields,
                )

        raw_flush = partial(_flush, producer, "raw producer")
        raw_tracked_flush = partial(_flush, tracked_producer, "raw tracked producer")
        sdk_flush = partial(_flush, client, "SDK client")

        variants = {
            "raw": (raw, raw_flush),
            "raw_tracked": (raw_tracked, raw_tracked_flush),
            "sdk": (sdk, sdk_flush),
        }
        variants |= {
            "sdk_prepared": (sdk_prepared, sdk_flush),
            "sdk_traced": (sdk_traced, sdk_flush),
        }
        # Warm-up: metadata, producer ids, connections, the client's shape cache.
        for emit_all, flush in variants.values():
            _measure(n, emit_all, flush)
        best: dict[str, dict[str, float]] = {}
        for _ in range(repeat):
            for name, (emit_all, flush) in variants.items():
                figures = _measure(n, emit_all, flush)
                if name not in best or figures["total_us"] < best[name]["total_us"]:
                    best[name] = figures
        stats = client.stats()
        client.close()
    if reports[0] != n * (repeat + 1):
        raise RuntimeError(f"raw tracked saw {reports[0]} delivery reports, not {n * (repeat + 1)}")
    if stats.spooled or stats.dropped:
        raise RuntimeError(f"the SDK spooled or dropped events during the benchmark: {stats}")
    return _figures(n, best, one_core)


def _flush(target: Producer | AuditClient, what: str) -> None:
    """Flush `target`; raise if anything is still undelivered after 120 s."""
    if target.flush(120) != 0:
        raise RuntimeError(f"{what} did not deliver everything within 120 s")


def produce_all(producer: Producer, topic: str, messages: Sequence[tuple[bytes, bytes]]) -> None:
    """`produce` every (key, value), waiting for room when the local queue is full."""
    for key, value in messages:
        while True:
            try:
                producer.produce(topic, value, key)
                break
            except BufferError:
                producer.poll(0.001)


def _figures(n: int, best: dict[str, dict[str, float]], one_core: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"events": n, "one_core": one_core}
    for name, figures in best.items():
        out[f"{name}_call_us_per_event"] = round(figures["call_us"], 2)
        out[f"{name}_us_per_event"] = round(figures["total_us"], 2)
        out[f"{name}_cpu_us_per_event"] = round(figures["cpu_us"], 2)
        out[f"{name}_events_per_s"] = round(1e6 / figures["total_us"])
    out["sdk_to_raw_ratio"] = round(best["sdk"]["total_us"] / best["raw"]["total_us"], 2)
    out["raw_tracked_to_raw_ratio"] = round(
        best["raw_tracked"]["total_us"] / best["raw"]["total_us"], 2
    )
    out["sdk_to_raw_tracked_ratio"] = round(
        best["sdk"]["total_us"] / best["raw_tracked"]["total_us"], 2
    )
    out["sdk_prepared_to_raw_ratio"] = round(
        best["sdk_prepared"]["total_us"] / best["raw"]["total_us"], 2
    )
    out["meets_ratio_target"] = out["sdk_to_raw_ratio"] <= TARGET_RATIO
    out["meets_throughput_target"] = out["sdk_events_per_s"] >= TARGET_PER_S
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Print the figures, one per line, then as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--all-cores", action="store_true", help="do not pin to one CPU")
    args = parser.parse_args(argv)
    figures = run(args.events, args.repeat, one_core=not args.all_cores)
    print(f"events: {figures['events']}  (pinned to one core: {figures['one_core']})")
    print(f"{'':28} {'call µs/ev':>10} {'total µs/ev':>11} {'CPU µs/ev':>10} {'events/s':>10}")
    for name in ("raw", "raw_tracked", "sdk", "sdk_prepared", "sdk_traced"):
        print(
            f"{name:28} {figures[f'{name}_call_us_per_event']:>10.2f} "
            f"{figures[f'{name}_us_per_event']:>11.2f} "
            f"{figures[f'{name}_cpu_us_per_event']:>10.2f} "
            f"{figures[f'{name}_events_per_s']:>10,}"
        )
    print(
        f"sdk / raw: {figures['sdk_to_raw_ratio']:.2f}x (target <= {TARGET_RATIO}x: "
        f"{'met' if figures['meets_ratio_target'] else 'NOT met'}); "
        f"sdk events/s target >= {TARGET_PER_S:,}: "
        f"{'met' if figures['meets_throughput_target'] else 'NOT met'}"
    )
    print(
        f"raw tracked / raw: {figures['raw_tracked_to_raw_ratio']:.2f}x; "
        f"sdk / raw tracked: {figures['sdk_to_raw_tracked_ratio']:.2f}x"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
