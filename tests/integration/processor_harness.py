"""Shared pieces of the processor's integration tests: the worker as a `dua run processor`
subprocess, events to produce, and readers of the output topics (real broker, no mocks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer
from prometheus_client.parser import text_string_to_metric_families

from dua.kafka import free_ports
from dua.settings import Settings
from dua_schemas import WireCodec
from dua_schemas.testing import access_record

DUA = str(Path(sys.executable).with_name("dua"))
CODEC = WireCodec()
T0 = datetime(2026, 11, 1, tzinfo=UTC)
DEADLINE_S = 60.0


def access_event(**fields: Any) -> dict[str, Any]:
    """A DataAccessEvent record at T0; compliant unless `fields` say otherwise."""
    return access_record(**{"occurred_at": T0, **fields})


def ad_event(subject: str, **fields: Any) -> dict[str, Any]:
    """Targeted advertising on behavioural data: compliant unless the subject opted out."""
    return access_event(
        subject_id=subject,
        service="hotpepper-gourmet",
        purpose="marketing.targeted_advertising",
        elements=["user.behavior.browsing_history", "user.device.ad_id"],
        destination={"kind": "AD_PLATFORM", "name": "ad-network"},
        **fields,
    )


def consent_change(subject: str, *, targeting_opt_out: bool) -> dict[str, Any]:
    """A ConsentChange record."""
    return {
        "subject_id": subject,
        "occurred_at": T0,
        "targeting_opt_out": targeting_opt_out,
        "publication_consent": False,
        "payroll_other_use_consent": False,
    }


def produce(bootstrap: str, topic: str, messages: Iterable[tuple[bytes | None, bytes]]) -> int:
    """Produce (key, value) pairs and wait until the broker has every one."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    errors: list[Any] = []
    count = 0
    for key, value in messages:
        producer.produce(
            topic, value, key, on_delivery=lambda err, _m: errors.append(err) if err else None
        )
        count += 1
    assert producer.flush(30) == 0, "messages still queued after 30 s"
    assert not errors, errors
    return count


def produce_events(bootstrap: str, topic: str, events: Iterable[dict[str, Any]]) -> int:
    """Produce DataAccessEvents keyed by subject, as the SDK does."""
    return produce(
        bootstrap,
        topic,
        ((e["subject_id"].encode(), CODEC.encode("DataAccessEvent", e)) for e in events),
    )


def produce_in_transaction(
    bootstrap: str, topic: str, events: Iterable[dict[str, Any]], *, commit: bool = True
) -> None:
    """Produce DataAccessEvents keyed by subject in one Kafka transaction, then commit or
    abort it (a producer with a transactional id, as a Kafka Streams service has)."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "transactional.id": f"test-{uuid.uuid4().hex[:8]}"}
    )
    producer.init_transactions(30)
    producer.begin_transaction()
    for event in events:
        producer.produce(
            topic, CODEC.encode("DataAccessEvent", event), event["subject_id"].encode()
        )
    producer.flush(30)
    if commit:
        producer.commit_transaction(30)
    else:
        producer.abort_transaction(30)


class TopicReader:
    """Reads a topic from its start and decodes every message (Avro single-object); the keys
    of messages without a value (a changelog's deletions) go to `tombstones`. `decode=False`
    keeps the values as they are, in `values` (a changelog's JSON)."""

    def __init__(self, bootstrap: str, topic: str, *, decode: bool = True) -> None:
        self.topic = topic
        self.decode = decode
        self.values: list[bytes] = []
        self.records: list[dict[str, Any]] = []
        self.headers: list[dict[str, bytes]] = []
        self.tombstones: list[bytes] = []
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"test-reader-{uuid.uuid4().hex[:8]}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        self._consumer.subscribe([topic])

    def poll(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for message in self._consumer.consume(1000, 0.2):
                if message.error() is not None:
                    continue
                value = message.value()
                if value is None:
                    self.tombstones.append(message.key() or b"")
                elif not self.decode:
                    self.values.append(value)
                else:
                    self.records.append(CODEC.decode(value).record)
                self.headers.append(dict(message.headers() or []))

    def read(self, count: int, timeout: float = DEADLINE_S) -> list[dict[str, Any]]:
        """Records until at least `count` have arrived (or the timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.records) < count and time.monotonic() < deadline:
            self.poll(0.5)
        return self.records

    def close(self) -> None:
        self._consumer.close()


class ProcessorProcess:
    """`dua run processor` in a subprocess, with its own app id, state dir and metrics port."""

    def __init__(
        self,
        settings: Settings,
        workdir: Path,
        *,
        policy: Path | None = None,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        """`args`: more options of `dua run processor` (e.g. `--workers 2`); `env`: more
        settings (e.g. `DUA_PROCESSOR_EXPIRY_EVERY_S`)."""
        self.args = args
        (self.metrics_port,) = free_ports(1)
        self.log = workdir / "processor.log"
        self.workdir = workdir
        environment = {k: v for k, v in os.environ.items() if not k.startswith("DUA_")}
        environment.update(
            {
                "DUA_KAFKA_BOOTSTRAP": str(settings.kafka_bootstrap),
                "DUA_STATE_DIR": str(settings.state_dir),
                "DUA_TOPIC_PARTITIONS": str(settings.topic_partitions),
                "DUA_PROCESSOR_APP_ID": f"test-processor-{uuid.uuid4().hex[:10]}",
                "DUA_PROCESSOR_METRICS_PORT": str(self.metrics_port),
                **{
                    f"DUA_TOPIC_{role.upper()}": name
                    for role, name in asdict(settings.topics).items()
                },
            }
        )
        if policy is not None:
            environment["DUA_POLICY"] = str(policy)
        environment.update(env or {})
        self.env = environment
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ProcessorProcess:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [DUA, "run", "processor", *self.args],
                env=self.env,
                cwd=self.workdir,
                stdout=out,
                stderr=out,
            )
        return self

    def restart(self) -> ProcessorProcess:
        """A new process with the same app id, state dir and topics (after `kill9` or `stop`)."""
        assert self.process is not None
        assert self.process.poll() is not None
        return self.start()

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after 20 s; the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return int(self.process.returncode)

    def kill9(self) -> None:
        """SIGKILL: no flush, no commit, no goodbye."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def metric(self, name: str, *, port: int | None = None, **labels: str) -> float | None:
        """The current value of a sample (None when the endpoint or sample is not there).

        `port`: another worker's endpoint (worker i of a pool serves on metrics_port + i).
        """
        url = f"http://127.0.0.1:{port or self.metrics_port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                text = response.read().decode()
        except OSError:
            return None
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    return float(sample.value)
        return None

    def wait_metric(
        self, name: str, at_least: float, timeout: float = DEADLINE_S, **labels: str
    ) -> float:
        """Wait until a sample reaches `at_least`; its value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            assert self.process is not None
            assert self.process.poll() is None, self.log_text()
            value = self.metric(name, **labels)
            if value is not None and value >= at_least:
                return value
            time.sleep(0.2)
        raise AssertionError(f"{name}{labels} = {value}, not >= {at_least}:\n{self.log_text()}")
