"""`dua kafka up --brokers 3`: a local three-broker cluster from the same jars, end to end."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dua.kafka import describe_cluster, topic_settings
from dua.kafka.process import is_alive

pytestmark = pytest.mark.integration

DUA = Path(sys.executable).with_name("dua")
BROKER_LINE = re.compile(r"^broker (\d): 127\.0\.0\.1:\d+ pid (\d+) ", re.MULTILINE)
LEADER_LINE = re.compile(r"partition \d+: leader \d replicas \d,\d,\d in sync \d,\d,\d")


@pytest.mark.skipif(
    not (shutil.which("java") and shutil.which("mvn")), reason="needs java and mvn on PATH"
)
@pytest.mark.skipif(not Path("/proc/self").exists(), reason="checks processes through /proc")
def test_cli_cluster_up_status_down(tmp_path: Path) -> None:
    """Three brokers answer, topics have 3 replicas and min.insync.replicas 2, `status` shows
    every broker and every partition's leader, and `down` leaves no process behind."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DUA_") or key == "DUA_CACHE_DIR"
    }
    env.update(DUA_STATE_DIR=str(tmp_path), DUA_KAFKA_HEAP="256m", DUA_TOPIC_PARTITIONS="3")

    def dua(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DUA), "kafka", *args],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    up = dua("up", "--brokers", "3")
    pids: dict[int, int] = {}
    try:
        assert up.returncode == 0, up.stderr
        pids = {int(node): int(pid) for node, pid in BROKER_LINE.findall(up.stdout)}
        assert sorted(pids) == [1, 2, 3]
        bootstrap = up.stdout.strip().splitlines()[-1].removeprefix("bootstrap ")
        assert len(bootstrap.split(",")) == 3

        view = describe_cluster(bootstrap)
        assert sorted(view.brokers) == [1, 2, 3]
        raw = view.of("dua.access.raw")
        assert len(raw) == 3
        assert all(len(p.replicas) == 3 and p.leader in pids for p in raw)
        assert topic_settings(bootstrap, "dua.access.raw")["min.insync.replicas"] == "2"

        assert dua("up").returncode == 1  # one broker is refused while the cluster runs
        status = dua("status")
        assert status.returncode == 0, status.stderr
        assert "Kafka cluster of 3 brokers" in status.stdout
        assert {int(n) for n, _ in BROKER_LINE.findall(status.stdout)} == {1, 2, 3}
        assert len(LEADER_LINE.findall(status.stdout)) == 5 * 3  # 5 topics x 3 partitions
    finally:
        down = dua("down")
    assert down.returncode == 0, down.stderr
    for pid in pids.values():
        assert f"pid {pid}" in down.stdout
    cluster = tmp_path / "kafka" / "cluster"
    assert not any(
        is_alive(pid, str(cluster / f"node-{node}" / "server.properties"))
        for node, pid in pids.items()
    )
    assert dua("status").returncode == 1
