"""`dua run sink` as its own process against the real broker, writing to embedded chDB.

The test process never opens the sink's chDB directory: it reads through the sink's
read-only endpoint (as `dua query` does) or runs `dua` commands as other processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer

from dua_compliance.http_reader import HttpReader
from dua_schemas import WireCodec
from dua_sink import read_record
from dua_sink.testing import rejected_record, tagged_event, violation_record, violation_summary

pytestmark = pytest.mark.integration

DUA = str(Path(sys.executable).with_name("dua"))
CODEC = WireCodec()
PAYROLL = [
    {"code": "user.financial.salary", "category": "personal", "sensitivity": "high"},
    {"code": "user.behavior.usage_history", "category": "informative", "sensitivity": "normal"},
]
DEADLINE_S = 90.0


class SinkProcess:
    """One `dua run sink` subprocess with its own state directory."""

    def __init__(self, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.env, self.cwd, self.log = env, cwd, log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def state_dir(self) -> Path:
        return Path(self.env["DUA_STATE_DIR"])

    def start(self) -> HttpReader:
        """Start the sink and return a reader on its endpoint once it answers."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [DUA, "run", "sink"], env=self.env, cwd=self.cwd, stdout=out, stderr=out
            )
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"sink exited early:\n{self.log_text()}"
            record = read_record(self.state_dir)
            if record is not None and record.pid == self.process.pid:
                reader = HttpReader(f"http://127.0.0.1:{record.query_port}/", "dua")
                if reader.ping():
                    return reader
            time.sleep(0.2)
        raise AssertionError(f"sink did not come up:\n{self.log_text()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def sink_env(
    kafka_bootstrap: str, topic_factory: Callable[..., list[str]], tmp_path: Path
) -> dict[str, str]:
    """Environment of a sink on fresh topics, its own state dir and group, embedded chDB."""
    tagged, violations, dlq = topic_factory("tagged", "violations", "dlq")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUA_")}
    env.update(
        DUA_STATE_DIR=str(tmp_path / "state"),
        DUA_KAFKA_BOOTSTRAP=kafka_bootstrap,
        DUA_TOPIC_TAGGED=tagged,
        DUA_TOPIC_VIOLATIONS=violations,
        DUA_TOPIC_DLQ=dlq,
        DUA_SINK_GROUP=f"test-sink-{uuid.uuid4().hex[:8]}",
        DUA_SINK_METRICS_PORT="0",
        DUA_SINK_QUERY_PORT="0",
        DUA_SINK_FLUSH_INTERVAL_S="0.2",
        DUA_SUBJECT_KEY="test-subject-key",
    )
    return env


@pytest.fixture
def sink(sink_env: dict[str, str], tmp_path: Path) -> Iterator[SinkProcess]:
    process = SinkProcess(sink_env, tmp_path, tmp_path / "sink.log")
    yield process
    if process.process is not None and process.process.poll() is None:
        process.process.kill()
        process.process.wait(30)


def _produce(bootstrap: str, topic: str, payloads: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for index, payload in enumerate(payloads):
        producer.produce(topic, payload, key=str(index).encode())
        if index % 10_000 == 9_999:
            producer.flush(30)
    assert producer.flush(30) == 0


def _count(reader: HttpReader, sql: str) -> int:
    return int(reader.query(sql).rows[0][0])


def _wait_for(reader: HttpReader, sql: str, expected: int, sink: SinkProcess) -> None:
    deadline = time.monotonic() + DEADLINE_S
    seen = -1
    while time.monotonic() < deadline:
        seen = _count(reader, sql)
        if seen >= expected:
            return
        time.sleep(0.2)
    raise AssertionError(f"{sql}: {seen} rows, expected {expected}\n{sink.log_text()}")


def _dua(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DUA, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_records_flow_into_chdb_and_readers_work_while_the_sink_runs(
    sink: SinkProcess, sink_env: dict[str, str], kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Rows equal records produced; other processes query via the endpoint; writes are refused."""
    reader = sink.start()
    payroll = [
        tagged_event(
            elements=PAYROLL,
            purpose="marketing.campaign_notice",
            purpose_category="marketing",
            violations=[violation_summary("payroll_data_misuse", "critical")],
        )
        for _ in range(40)
    ]
    plain = [tagged_event(service="x'); DROP TABLE access_events; --") for _ in range(160)]
    tagged = payroll + plain
    violations = [violation_record(e, "payroll_data_misuse", "critical") for e in payroll]
    _produce(
        kafka_bootstrap,
        sink_env["DUA_TOPIC_TAGGED"],
        [CODEC.encode("TaggedAccessEvent", e) for e in tagged] + [b"not avro", b""],
    )
    _produce(
        kafka_bootstrap,
        sink_env["DUA_TOPIC_VIOLATIONS"],
        [CODEC.encode("Violation", v) for v in violations],
    )
    _produce(
        kafka_bootstrap,
        sink_env["DUA_TOPIC_DLQ"],
        [CODEC.encode("RejectedEvent", rejected_record()) for _ in range(3)],
    )

    _wait_for(reader, "SELECT count() FROM access_events", len(tagged), sink)
    _wait_for(reader, "SELECT count() FROM violations", len(violations), sink)
    _wait_for(reader, "SELECT count() FROM rejected_events", 5, sink)
    assert _count(reader, "SELECT count() FROM access_events") == 200
    reasons = reader.query(
        "SELECT reason, count() FROM rejected_events GROUP BY reason ORDER BY reason"
    ).rows
    assert reasons == [("corrupt_body", 3), ("empty_payload", 1), ("unknown_framing", 1)]
    stored = reader.query("SELECT DISTINCT service FROM access_events WHERE service LIKE 'x%'")
    assert stored.rows == [("x'); DROP TABLE access_events; --",)]

    # Another process asks a saved question while the sink owns the directory.
    answer = _dua(
        sink_env,
        tmp_path,
        "query",
        "--saved",
        "payroll_access",
        "--since",
        "3650d",
        "--format",
        "json",
    )
    assert answer.returncode == 0, answer.stderr
    (row,) = json.loads(answer.stdout)
    assert (row["service"], row["purpose"], row["accesses"]) == (
        "jalan",
        "marketing.campaign_notice",
        40,
    )
    assert row["payroll_elements"] == "user.financial.salary"

    # A write through the same path is refused, and nothing was written.
    refused = _dua(sink_env, tmp_path, "query", "INSERT INTO access_events (event_id) VALUES ('x')")
    assert refused.returncode != 0
    assert "refused" in refused.stderr
    sneaky = _dua(sink_env, tmp_path, "query", "SELECT 1 SETTINGS readonly = 0")
    assert sneaky.returncode != 0
    assert "READONLY" in sneaky.stderr
    assert _count(reader, "SELECT count() FROM access_events") == 200

    status = _dua(sink_env, tmp_path, "db", "status")
    assert status.returncode == 0, status.stderr
    assert "pending" not in status.stdout
    assert "002  aggregates" in status.stdout

    assert sink.stop(signal.SIGTERM) == 0, sink.log_text()
    assert read_record(sink.state_dir) is None
    # With the sink gone, `dua query` opens the directory itself and sees the same rows.
    after = _dua(
        sink_env, tmp_path, "query", "SELECT count() AS n FROM access_events", "--format", "csv"
    )
    assert after.returncode == 0, after.stderr
    assert after.stdout.splitlines() == ["n", "200"]


def test_kill_9_mid_stream_then_restart_loses_nothing_and_duplicates_nothing(
    sink: SinkProcess, sink_env: dict[str, str], kafka_bootstrap: str
) -> None:
    """SIGKILL while batches are being written; after a restart every record is there once."""
    total = 12_000
    sink_env["DUA_SINK_BATCH_MAX_ROWS"] = "300"
    events = [tagged_event(elements=PAYROLL) for _ in range(total)]
    _produce(
        kafka_bootstrap,
        sink_env["DUA_TOPIC_TAGGED"],
        [CODEC.encode("TaggedAccessEvent", e) for e in events],
    )
    reader = sink.start()
    deadline = time.monotonic() + DEADLINE_S
    written = 0
    while time.monotonic() < deadline:
        written = _count(reader, "SELECT count() FROM access_events")
        if written > 0:
            break
        time.sleep(0.05)
    assert 0 < written < total, f"could not catch the sink mid-stream ({written} rows)"
    assert sink.stop(signal.SIGKILL) == -signal.SIGKILL

    reader = sink.start()
    _wait_for(reader, "SELECT count() FROM access_events", total, sink)
    time.sleep(1.0)  # a duplicate would be a later insert: give it the time to land
    # Raw table (not the FINAL view) and the summing aggregate: neither hides a duplicate.
    assert _count(reader, "SELECT count() FROM access_events") == total
    assert _count(reader, "SELECT uniqExact(event_id) FROM access_events") == total
    assert _count(reader, "SELECT sum(events) FROM access_hourly") == total * len(PAYROLL)
    assert sink.stop(signal.SIGTERM) == 0, sink.log_text()
