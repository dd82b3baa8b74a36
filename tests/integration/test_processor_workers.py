"""`dua run processor --workers 2`: two workers share the stream; a killed one comes back."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from confluent_kafka import ConsumerGroupState
from confluent_kafka.admin import AdminClient

from dua.kafka import free_ports
from dua.kafka.ports import port_in_use
from dua.kafka.process import is_alive
from dua.settings import Settings

from .processor_harness import (
    DEADLINE_S,
    T0,
    ProcessorProcess,
    TopicReader,
    access_event,
    produce_events,
)

pytestmark = pytest.mark.integration

EVENTS = 3_000


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return sorted(int(line) for line in found.stdout.split())


def _stable_members(admin: AdminClient, group: str) -> int:
    described = admin.describe_consumer_groups([group])[group].result(timeout=10)
    if described.state != ConsumerGroupState.STABLE:
        return 0
    return len(described.members)


def _wait(condition: Callable[[], bool], what: str, log: Callable[[], str]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen\n{log()}"
        time.sleep(0.2)


def _two_free_ports() -> int:
    while True:
        (port,) = free_ports(1)
        if port < 65535 and not port_in_use("127.0.0.1", port + 1):
            return port


def test_two_workers_share_the_partitions_and_a_killed_worker_is_restarted(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = settings_factory(partitions=4)
    bootstrap = str(settings.kafka_bootstrap)
    pool = ProcessorProcess(settings, tmp_path, args=("--workers", "2"))
    pool.metrics_port = _two_free_ports()
    pool.env["DUA_PROCESSOR_METRICS_PORT"] = str(pool.metrics_port)
    group = pool.env["DUA_PROCESSOR_APP_ID"]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    pool.start()
    assert pool.process is not None
    try:
        _wait(lambda: len(_children(pool.process.pid)) == 2, "two workers", pool.log_text)
        _wait(lambda: _stable_members(admin, group) == 2, "a group of two", pool.log_text)

        first = [access_event() for _ in range(EVENTS)]
        produce_events(bootstrap, settings.topic_raw, first)
        tagged.read(EVENTS)
        ports = (pool.metrics_port, pool.metrics_port + 1)

        def counted(port: int) -> float:
            return pool.metric("dua_processor_batch_size_count", port=port) or 0.0

        # both took part: each has its own endpoint and handled batches of its partitions
        _wait(lambda: all(counted(p) > 0 for p in ports), "batches on both", pool.log_text)

        victim = _children(pool.process.pid)[0]
        os.kill(victim, signal.SIGKILL)
        _wait(
            lambda: (
                victim not in _children(pool.process.pid) and len(_children(pool.process.pid)) == 2
            ),
            "a replacement worker",
            pool.log_text,
        )
        later = [access_event() for _ in range(EVENTS)]
        produce_events(bootstrap, settings.topic_raw, later)
        expected = {e["event_id"] for e in (*first, *later)}
        _wait(
            lambda: (tagged.poll(1.0), {r["event_id"] for r in tagged.records} >= expected)[1],
            "every event tagged after the restart",
            pool.log_text,
        )
        assert "exited with status -9; starting it again" in pool.log.read_text()
        # Faust's own lines carry the worker's prefix too (Faust replaces the log handlers)
        assert re.search(
            r"\[worker [01]\] faust[.\w]*: Executing _on_partitions_assigned", pool.log.read_text()
        )
        workers = _children(pool.process.pid)
    finally:
        tagged.close()
        status = pool.stop()
    assert status == 0, pool.log_text()
    # stopped with the pool, none left behind (the marker: a worker's own command line)
    assert not any(is_alive(pid, "--worker-index") for pid in workers)


def test_a_worker_gives_away_partitions_with_their_state_and_patterns_still_complete(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    """A worker alone holds re-identification state of every partition; when a second one
    joins, the first forgets the entries of the partitions it gives away (their new owner
    restores them from the changelog) and keeps its own without reading their changelogs
    again, and every pattern started before the rebalance still completes after it, on
    whichever worker."""
    settings = settings_factory(partitions=4)
    bootstrap = str(settings.kafka_bootstrap)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = ProcessorProcess(settings, tmp_path / "a")
    second = ProcessorProcess(settings, tmp_path / "b")
    second.env["DUA_PROCESSOR_APP_ID"] = first.env["DUA_PROCESSOR_APP_ID"]
    second.env["DUA_STATE_DIR"] = str(tmp_path / "b" / "state")
    analyst = {"kind": "EMPLOYEE", "id": "analyst-9"}
    subjects = [f"{i:064x}" for i in range(40)]
    linkable = [
        access_event(
            subject_id=s,
            service="hotpepper-gourmet",
            purpose="research.profiling",
            elements=["user.behavior.usage_history"],
            processing="PSEUDONYMIZED",
            actor=analyst,
        )
        for s in subjects
    ]
    identifying = [
        access_event(
            subject_id=s,
            occurred_at=T0 + timedelta(minutes=1),
            service="hotpepper-gourmet",
            purpose="service.inquiry_response",
            elements=["user.name"],
            actor=analyst,
        )
        for s in subjects
    ]
    tagged = TopicReader(bootstrap, settings.topic_tagged)
    first.start()
    try:
        produce_events(bootstrap, settings.topic_raw, linkable)
        tagged.read(len(linkable))
        second.start()

        def forgotten() -> int:
            found = re.search(r"forgot (\d+) state entries", first.log.read_text())
            return int(found.group(1)) if found else 0

        _wait(lambda: forgotten() > 0, "the first worker forgetting", first.log_text)
        # it gave away some partitions, not all: it kept its own partitions' entries
        assert 0 < forgotten() < len(subjects)
        produce_events(bootstrap, settings.topic_raw, identifying)
        wanted = {e["event_id"] for e in identifying}
        _wait(
            lambda: (tagged.poll(0.5), wanted <= {r["event_id"] for r in tagged.records})[1],
            "every identifying access tagged",
            first.log_text,
        )
        # A rebalance may repeat a batch (at-least-once): every copy of an access that
        # completed a pattern carries the finding (the engine remembers which access fired).
        copies = [r for r in tagged.records if r["event_id"] in wanted]
        flagged = [
            r["event_id"]
            for r in copies
            if any(v["rule"] == "reidentification_suspected" for v in r["violations"])
        ]
        assert len(flagged) == len(copies), "a copy without the finding"
        completed = [e["subject_id"] for e in identifying if e["event_id"] in set(flagged)]
        assert completed == subjects, first.log_text() + second.log_text()
        # the first knew how far its kept tables go: its recovery read none of their records
        # (the second read those it received; Faust logs this line when it reads any)
        assert "Restoring state from changelog topics" not in first.log.read_text()
        assert "Restoring state from changelog topics" in second.log.read_text()
    finally:
        tagged.close()
        statuses = (second.stop(), first.stop())
    assert statuses == (0, 0), first.log_text() + second.log_text()
