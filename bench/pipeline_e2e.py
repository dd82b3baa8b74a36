"""The whole pipeline at a fixed offered rate: SDK -> Kafka -> processor -> sink -> ClickHouse.

Run: `.venv/bin/python -m bench.pipeline_e2e [--events 10000 100000] [--rate 3000]`, or call
`run(bootstrap, n, rate)` with a broker (bench/__main__.py starts one for the whole run).

For each size, on fresh topics and a fresh state directory (its own chDB):
`dua run processor` and `dua run sink` start as child processes (`dua demo`'s `Child`); once
the sink answers, the simulator of `dua demo` sends N access events through the SDK at the
offered rate (one client per seed service, about 10% planted violations); timing runs from
the first emit to the N-th event queryable in `access_events_unique`. Reported: sustained
events/s (N / that time) and emit-to-queryable latency p50/p99 (inserted_at - occurred_at).
`dua run notifier` runs beside them (unless `notifier=False`), posting to a local webhook
(bench/webhook_receiver.py): emit → webhook p50/p99 of the critical violations' posts, and
of each rule and service's first such post (the alert).
Beside it, on the same raw topic: the ceiling (a confluent-kafka consumer that only decodes),
and the native peer (bench/clickhouse_kafka_engine.py) reading the same events re-produced
as JSONEachRow.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Final

from bench.clickhouse_kafka_engine import produce_json, run_in_child
from bench.pipeline_processor import ceiling, kafka
from bench.webhook_receiver import WebhookReceiver, latencies_ms, percentile
from confluent_kafka import Consumer
from prometheus_client.parser import text_string_to_metric_families

from dua.demo.children import Child
from dua.demo.landing import RunQueries
from dua.kafka import ensure_topics, free_ports
from dua.read_path import open_reader
from dua.settings import load_settings
from dua.simulation import ClientFactory, SimulationOptions, Simulator
from dua_schemas import DuaError, Topics, WireCodec

PARTITIONS: Final = 4
READY_TIMEOUT_S: Final = 120.0
LAND_TIMEOUT_S: Final = 1800.0
VIOLATION_RATE: Final = 0.1
# Events per second, for one second, sent before the measured run (`_warm_up`).
WARM_UP_PER_S: Final = 300.0
SUBJECT_KEY: Final = "bench-subject-key-0123456789"
ROLES: Final = tuple(field.name for field in fields(Topics))

Progress = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _raw_records(bootstrap: str, topic: str, n: int) -> Iterator[dict[str, Any]]:
    """The `n` events on the raw topic, decoded (the very records the SDK sent)."""
    codec = WireCodec()
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-json-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    seen, deadline = 0, time.monotonic() + 300
    try:
        while seen < n and time.monotonic() < deadline:
            for message in consumer.consume(5_000, 1.0):
                if message.error() is None:
                    seen += 1
                    yield dict(codec.decode(message.value() or b"").record)
    finally:
        consumer.close()


def _warm_up(
    settings: Any, factory: ClientFactory, run_id: str, children: tuple[Child, ...]
) -> None:
    """A second of traffic of another run, until queryable: the processor's and the sink's
    first fetches of the fresh topics, and the broker's first appends, are start-up, not the
    steady state the figures are about (the sink and Kafka engine rows skip theirs too)."""
    warm_up_id = f"{run_id}-warm-up"
    # No planted violations: the notifier's groups must open in the measured run, whose
    # first posts of each rule and service are the webhook rows' alerts.
    options = SimulationOptions(WARM_UP_PER_S, 1.0, 0.0, run_id=warm_up_id)
    sent = Simulator(factory, options).run().emitted
    queries, deadline = RunQueries(settings, warm_up_id), time.monotonic() + READY_TIMEOUT_S
    while queries.landed().events < sent:
        _check(children)
        if time.monotonic() > deadline:
            raise RuntimeError(f"the warm-up's {sent} events did not land in {READY_TIMEOUT_S} s")
        time.sleep(0.2)


def _wait_ready(queries: RunQueries, record: Path, children: tuple[Child, ...]) -> None:
    """Until the sink answers through its endpoint. Asked only once the sink has written its
    record (as `dua demo` does): a reader opening chDB itself before the sink locks the
    directory would keep the sink out, and this process may open only one chDB directory."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        _check(children)
        if record.exists():
            try:
                queries.landed()
            except DuaError:
                pass
            else:
                return
        time.sleep(0.5)
    raise RuntimeError(f"the sink did not answer within {READY_TIMEOUT_S:.0f} s")


def _check(children: tuple[Child, ...]) -> None:
    for child in children:
        if not child.alive():
            raise RuntimeError(f"the {child.name} exited early:\n{child.log_tail()}")


def _webhook_latency(settings: Any, receiver: WebhookReceiver) -> dict[str, Any]:
    """Emit → webhook of the critical violations' posts: arrival - occurred_at of the event
    that opened each group (looked up through the sink's endpoint)."""
    posts = list(receiver.posts)
    events = sorted({post.event for post in posts if post.event})
    occurred: dict[str, int] = {}
    if events:
        reader = open_reader(settings)
        try:
            rows = reader.query(
                "SELECT event_id, toUnixTimestamp64Milli(occurred_at) FROM access_events_unique"
                " WHERE event_id IN {ids:Array(String)}",
                {"ids": events},
            ).rows
        finally:
            reader.close()
        occurred = {str(event): int(ms) for event, ms in rows}
    critical = latencies_ms(posts, occurred, "critical")
    alerts = latencies_ms(posts, occurred, "critical", first_only=True)
    return {
        "webhook_posts": len(posts),
        "webhook_critical_posts": len(critical),
        "webhook_critical_p50_ms": percentile(critical, 0.5),
        "webhook_critical_p99_ms": percentile(critical, 0.99),
        # the first post of each rule and service: when the webhook first heard of it
        "webhook_alerts": len(alerts),
        "webhook_alert_p50_ms": percentile(alerts, 0.5),
        "webhook_alert_p99_ms": percentile(alerts, 0.99),
    }


def _consent_delay(port: int) -> dict[str, Any]:
    """The processor's `dua_processor_consent_delay_seconds`: how long after it was produced
    each consent change was applied (what the consent grace must cover), as the share of
    changes within each bound and the bound below which 50 %, 99 % and all of them fell."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    buckets: list[tuple[float, float]] = []
    for family in text_string_to_metric_families(text):
        if family.name == "dua_processor_consent_delay_seconds":
            buckets = sorted(
                (float(sample.labels["le"]), sample.value)
                for sample in family.samples
                if sample.name.endswith("_bucket")
            )
    total = buckets[-1][1] if buckets else 0.0
    if not total:
        return {"consent_changes": 0}

    def bound(share: float) -> float:
        return next(le for le, count in buckets if count >= share * total)

    return {
        "consent_changes": int(total),
        "consent_delay_p50_le_ms": bound(0.5) * 1000,
        "consent_delay_p99_le_ms": bound(0.99) * 1000,
        "consent_delay_max_le_ms": bound(1.0) * 1000,
        "consent_within_ms": {
            f"{le * 1000:g}": round(count / total, 4) for le, count in buckets if le <= 2
        },
    }


class _ConsentTraffic(threading.Thread):
    """Consent changes at a steady rate beside the simulator's accesses, for subjects of
    their own (no planted finding depends on them), sent as a service sends them: no flush,
    so the SDK's linger is part of their delay."""

    def __init__(self, factory: ClientFactory, per_s: float) -> None:
        super().__init__(name="bench-consent", daemon=True)
        # a spool of its own: the simulator's client of the same service holds its lock
        spool = factory.spool_root.with_name(f"{factory.spool_root.name}-consent")
        self._client = replace(factory, spool_root=spool)("hotpepper-gourmet")
        self._interval = 1.0 / per_s
        self._stopping = threading.Event()
        self.sent = 0

    def run(self) -> None:
        due = time.monotonic()
        while not self._stopping.wait(max(0.0, due - time.monotonic())):
            self._client.emit_consent(f"bench-consent-{self.sent}", targeting_opt_out=True)
            self.sent += 1
            due += self._interval

    def stop(self) -> None:
        self._stopping.set()
        self.join()
        self._client.close()


def pipeline(
    bootstrap: str,
    n: int,
    rate: float,
    home: Path,
    progress: Progress = _stderr,
    *,
    notifier: bool = True,
    consent_per_s: float = 0.0,
) -> dict[str, Any]:
    """Run the pipeline on `n` events at `rate`; returns its figures and the raw topic's name.

    `notifier`: also run `dua run notifier` posting to a local webhook, and time its posts;
    `consent_per_s`: also send consent changes at that rate while the accesses are sent."""
    suffix = uuid.uuid4().hex[:8]
    topics = {role: f"bench.e2e.{role}.{suffix}" for role in ROLES}
    ensure_topics(bootstrap, topics.values(), partitions=PARTITIONS)
    processor_port, sink_port, notifier_port = free_ports(3)
    receiver = WebhookReceiver().__enter__()
    env = {
        **os.environ,
        "DUA_STATE_DIR": str(home / "state"),
        "DUA_KAFKA_BOOTSTRAP": bootstrap,
        "DUA_PROCESSOR_APP_ID": f"bench-e2e-{suffix}",
        "DUA_SINK_GROUP": f"bench-e2e-sink-{suffix}",
        "DUA_PROCESSOR_METRICS_PORT": str(processor_port),
        "DUA_SINK_METRICS_PORT": str(sink_port),
        "DUA_NOTIFIER_METRICS_PORT": str(notifier_port),
        "DUA_NOTIFIER_GROUP": f"bench-e2e-notifier-{suffix}",
        "DUA_NOTIFIER_WEBHOOK_URL": receiver.url,
        **{f"DUA_TOPIC_{role.upper()}": name for role, name in topics.items()},
    }
    overrides = {"state_dir": home / "state", "kafka_bootstrap": bootstrap}
    settings = load_settings(**overrides)
    run_id = uuid.uuid4().hex[:12]
    queries = RunQueries(settings, run_id)
    logs = home / "logs"
    roles = ("processor", "sink", "notifier") if notifier else ("processor", "sink")
    children = tuple(Child(role, ["run", role], env, logs) for role in roles)
    try:
        _wait_ready(queries, settings.state_dir / "sink.json", children)
        factory = ClientFactory(
            bootstrap=bootstrap,
            subject_key=SUBJECT_KEY,
            topic_raw=topics["raw"],
            topic_consent=topics["consent"],
            spool_root=home / "spool",
        )
        _warm_up(settings, factory, run_id, children)
        options = SimulationOptions(rate, n / rate, VIOLATION_RATE, run_id=run_id)
        progress(f"bench: pipeline, {n:,} events at {rate:,.0f}/s offered")
        consent_traffic = _ConsentTraffic(factory, consent_per_s) if consent_per_s else None
        started = time.perf_counter()
        if consent_traffic is not None:
            consent_traffic.start()
        try:
            result = Simulator(factory, options).run()
        finally:
            if consent_traffic is not None:
                consent_traffic.stop()
        deadline = time.monotonic() + LAND_TIMEOUT_S
        landed, last_report = 0, 0.0
        while landed < result.emitted:
            _check(children)
            if time.monotonic() > deadline:
                raise RuntimeError(f"{landed} of {result.emitted} landed in {LAND_TIMEOUT_S} s")
            time.sleep(0.2)
            landed = queries.landed().events
            if time.monotonic() - last_report > 5:
                last_report = time.monotonic()
                progress(f"  landed {landed:,} of {result.emitted:,}")
        elapsed = time.perf_counter() - started
        p50, p99 = queries.latency_ms()
        stages = {f"latency_{k}": v for k, v in queries.latency_stages_ms().items()}
        # Posts of groups opened during the run have arrived by now unless still in their
        # window: what arrives later is not counted (the notifier is stopped below).
        webhook = _webhook_latency(settings, receiver) if notifier else {}
        consent = _consent_delay(processor_port)
    finally:
        for child in children:
            child.stop()
        receiver.__exit__()
    return {
        "events": result.emitted,
        "offered_per_s": rate,
        "send_s": round(result.elapsed_s, 3),
        "pipeline_s": round(elapsed, 3),
        "pipeline_per_s": round(result.emitted / elapsed),
        "latency_p50_ms": p50,
        "latency_p99_ms": p99,
        **stages,
        **webhook,
        **consent,
        "raw_topic": topics["raw"],
    }


def run(
    bootstrap: str,
    n: int,
    rate: float,
    progress: Progress = _stderr,
    *,
    notifier: bool = True,
    consent_per_s: float = 0.0,
) -> dict[str, Any]:
    """The pipeline, then the ceiling and the Kafka engine peer on the same events."""
    with tempfile.TemporaryDirectory(prefix="dua-bench-e2e-") as tmp:
        figures = pipeline(
            bootstrap, n, rate, Path(tmp), progress, notifier=notifier, consent_per_s=consent_per_s
        )
    events, raw = figures["events"], figures.pop("raw_topic")
    progress(f"bench: ceiling (decode-only consumer) on the same {events:,} events")
    figures["ceiling_per_s"] = round(ceiling(bootstrap, raw, events))
    json_topic = f"{raw}.json"
    ensure_topics(bootstrap, [json_topic], partitions=PARTITIONS)
    produce_json(bootstrap, json_topic, _raw_records(bootstrap, raw, events))
    progress(f"bench: ClickHouse Kafka engine peer on the same {events:,} events")
    peer = run_in_child(bootstrap, json_topic, events)
    figures |= {key: value for key, value in peer.items() if key != "events"}
    rate_ = figures["pipeline_per_s"]
    figures["ratio_pipeline_to_ceiling"] = round(rate_ / figures["ceiling_per_s"], 3)
    figures["ratio_pipeline_to_peer"] = round(rate_ / figures["peer_per_s"], 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[10_000])
    parser.add_argument("--rate", type=float, default=3_000.0)
    parser.add_argument(
        "--consent-per-s",
        type=float,
        default=0.0,
        help="also send consent changes at this rate (measures the consent delay the grace "
        "must cover: consent_delay_* and consent_within_ms in the output)",
    )
    args = parser.parse_args()
    with kafka() as bootstrap:
        for n in args.events:
            print(json.dumps(run(bootstrap, n, args.rate, consent_per_s=args.consent_per_s)))


if __name__ == "__main__":
    main()
