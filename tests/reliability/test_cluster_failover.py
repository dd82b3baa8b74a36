"""Issue 25: a three-broker cluster losing brokers under 1,000 events/s. The leader of the raw
topic's first partition is killed with SIGKILL, brought back, then another broker is killed:
leadership moves (failover, not outage), so the SDK never spools, the processor, sink and
notifier carry on as the same processes, and every event and planted violation lands once."""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dua.kafka import (
    LocalCluster,
    cache_root,
    describe_cluster,
    free_ports,
    resolve_jars,
    topic_settings,
)
from dua.kafka.process import is_alive
from dua.settings import load_settings
from dua_stream.notifier.testing import RecordingWebhook

from .pipeline_harness import Pipeline, running_pipeline

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

RATE = 1_000.0
DURATION_S = 60.0
FIRST_KILL_AT_S = 8.0
DOWN_FOR_S = 3.0
SECOND_KILL_AFTER_S = 3.0  # after the first victim is back in sync on every partition
WAIT_S = 90.0
NOTIFIER_METRIC = "dua_notifier_violations_total{"
LINK_RULE = "linkable_provision_without_consent"
CONTRADICTED = f'dua_processor_contradicted_violations_total{{rule="{LINK_RULE}"}}'


@dataclass
class Faults:
    """What the fault thread did and saw, in seconds since traffic started."""

    started: float = field(default_factory=time.monotonic)
    victims: list[int] = field(default_factory=list)
    second_kill_s: float = 0.0
    events: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def note(self, what: str) -> float:
        """Record what happened; the seconds since traffic started."""
        at = time.monotonic() - self.started
        self.events.append(f"{at:5.1f} s {what}")
        return at


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    """Three brokers of this test's own, every one stopped (killed if need be) afterwards."""
    settings = load_settings()
    jars = resolve_jars(settings.kafka_version, cache_root(os.environ))
    local = LocalCluster(tmp_path / "cluster")
    started = time.monotonic()
    local.start(jars, heap=settings.kafka_heap)
    rss = [_rss_mib(record.pid) for record in local.status().values() if record is not None]
    print(
        f"cluster of 3 started in {time.monotonic() - started:.1f} s, "
        f"RSS {' + '.join(f'{r:.0f}' for r in rss)} = {sum(rss):.0f} MiB"
    )
    try:
        yield local
    finally:
        local.stop(timeout=10)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)


def _kill(cluster: LocalCluster, node: int) -> None:
    record = cluster.node(node).status()
    assert record is not None, f"broker {node} is not running"
    os.killpg(record.pid, signal.SIGKILL)
    _until(lambda: not is_alive(record.pid, str(record.properties)), 30, f"broker {node} dies")
    cluster.node(node).stop()  # forgets the record (and reaps the child): the JVM is gone


def _inject(cluster: LocalCluster, raw_topic: str, faults: Faults) -> None:
    """Kill -9 the raw topic's first leader, restart it, wait for full sync, kill another."""
    settings = load_settings()
    jars = resolve_jars(settings.kafka_version, cache_root(os.environ))
    layout = cluster.layout()
    assert layout is not None
    bootstrap = layout.bootstrap

    def leaders() -> set[int]:
        return {p.leader for p in describe_cluster(bootstrap, timeout=5).of(raw_topic)}

    def moved_off(victim: int) -> Callable[[], bool]:
        return lambda: not leaders() & {victim, -1}

    def all_in_sync() -> bool:
        view = describe_cluster(bootstrap, timeout=5, internal=True)
        return len(view.brokers) == len(layout.nodes) and not any(
            p.under_replicated or p.leader < 0 for p in view.partitions
        )

    try:
        time.sleep(FIRST_KILL_AT_S)
        first = describe_cluster(bootstrap).of(raw_topic)[0].leader
        faults.victims.append(first)
        _kill(cluster, first)
        faults.note(f"killed broker {first} (leader of {raw_topic} partition 0) with SIGKILL")
        _until(moved_off(first), 60, f"leaders move off broker {first}")
        faults.note(f"raw partitions led by {sorted(leaders())}")
        time.sleep(DOWN_FOR_S)
        cluster.restart(first, jars, heap=settings.kafka_heap)
        faults.note(f"broker {first} restarted")
        _until(all_in_sync, 90, "every replica back in sync")
        faults.note("every partition fully in sync again")
        time.sleep(SECOND_KILL_AFTER_S)
        view = describe_cluster(bootstrap).of(raw_topic)
        second = next(p.leader for p in view if p.leader != first)
        faults.victims.append(second)
        _kill(cluster, second)
        faults.second_kill_s = faults.note(f"killed broker {second} with SIGKILL (stays down)")
        _until(moved_off(second), 60, f"leaders move off broker {second}")
        faults.note(f"raw partitions led by {sorted(leaders())}")
    except BaseException as exc:  # reported by the test, not lost in the thread
        faults.errors.append(exc)


def _metric_sum(port: int, prefix: str) -> int:
    """The sum of the samples served on `port` whose line starts with `prefix`."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in lines))


def _notifier_consumed(port: int) -> int:
    return _metric_sum(port, NOTIFIER_METRIC)


def _start_notifier(pipeline: Pipeline, webhook: RecordingWebhook, metrics_port: int) -> None:
    pipeline.env.update(
        DUA_NOTIFIER_WEBHOOK_URL=webhook.url,
        DUA_NOTIFIER_GROUP=f"rel-notifier-{pipeline.suffix}",
        DUA_NOTIFIER_GROUP_WINDOW_S="1",
        DUA_NOTIFIER_MIN_SEVERITY="low",
        DUA_NOTIFIER_MAX_MESSAGES_PER_MINUTE="600",
        DUA_NOTIFIER_METRICS_PORT=str(metrics_port),
    )
    pipeline.start("notifier")


def test_cluster_survives_leader_kill_and_a_second_broker_kill_at_1000_per_s(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    """60 s at 1,000 events/s; the raw leader killed -9 and restarted, then another broker
    killed: landed == emitted, no duplicate, violations found == planted per rule, nothing
    spooled, and the processor, sink and notifier are the processes that started."""
    layout = cluster.layout()
    assert layout is not None
    run_id = uuid.uuid4().hex[:12]
    (notifier_port,) = free_ports(1)
    with (
        RecordingWebhook() as webhook,
        running_pipeline(layout.bootstrap, tmp_path / "pipeline") as pipeline,
    ):
        raw = pipeline.settings.topic_raw
        replication = {len(p.replicas) for p in describe_cluster(layout.bootstrap).of(raw)}
        min_isr = topic_settings(layout.bootstrap, raw)["min.insync.replicas"]
        _start_notifier(pipeline, webhook, notifier_port)
        _until(lambda: _answers(notifier_port), 60, "the notifier serves its metrics")
        pids = {name: child.pid for name, child in pipeline.children.items()}
        faults = Faults()
        injector = threading.Thread(target=_inject, args=(cluster, raw, faults), daemon=True)
        injector.start()
        result = pipeline.simulate(run_id, RATE, DURATION_S)
        injector.join(120)
        assert not faults.errors, faults.errors
        landed = pipeline.wait_landed(run_id, result.emitted)
        found: Counter[str] = Counter()
        for rule, _severity, count in pipeline.queries(run_id).violations():
            found[rule] += count
        deadline = time.monotonic() + WAIT_S
        while _notifier_consumed(notifier_port) < found.total() and time.monotonic() < deadline:
            time.sleep(1.0)
        consumed = _notifier_consumed(notifier_port)
        contradicted = _metric_sum(int(pipeline.env["DUA_PROCESSOR_METRICS_PORT"]), CONTRADICTED)
        pipeline.check_alive()
        same = {name: child.pid for name, child in pipeline.children.items()} == pids
        elapsed = time.monotonic() - faults.started
    print("\n".join(["cluster failover:", *faults.events]))
    print(
        f"reliability cluster-failover: emitted {result.emitted} landed {landed.events} "
        f"duplicates {landed.rows - landed.events} spooled {result.spooled} "
        f"replicas {replication} min.insync.replicas {min_isr} same processes {same} "
        f"notifier consumed {consumed} posted {len(webhook.payloads)} in {elapsed:.1f} s"
    )
    print(f"  rule-16 findings contradicted by a link consent that came late: {contradicted}")
    for rule in sorted(set(found) | set(result.planted)):
        print(f"  {rule}: planted {result.planted[rule]} found {found[rule]}")
    assert replication == {3}
    assert min_isr == "2"
    assert len(faults.victims) == 2
    assert faults.second_kill_s < result.elapsed_s, "the second kill came after the traffic"
    assert result.emitted >= RATE * DURATION_S
    assert result.spooled == 0  # failover, not outage: every send reached a leader in time
    assert landed.events == result.emitted
    assert landed.rows == landed.events
    # Every finding is exact, rule 16 included: a link consent in the log before its access
    # is in force when the access is judged (the grace, and the wait while a consent partition
    # is behind or cannot say yet: the extra finding this test once saw was a consent 0.8 s in
    # the log, on a partition the starting worker had not fetched yet). What no wait covers is
    # a consent not yet in the log (its partition leaderless while the producer retries):
    # then the access's finding is false, and the processor reports it contradicted when the
    # consent arrives. The test accounts for exactly those, from the processor's own count.
    expected = result.planted + Counter({LINK_RULE: contradicted})
    assert dict(found) == dict(expected)
    assert consumed >= found.total()
    assert webhook.payloads
    assert same


def _answers(port: int) -> bool:
    try:
        _notifier_consumed(port)
    except OSError:
        return False
    return True
