"""Alerting end to end: real Prometheus and Alertmanager, the repository's own configuration.

Prometheus loads `deploy/prometheus/alerts.yml` (intervals shortened to 1 s) and Alertmanager
runs `deploy/alertmanager/alertmanager.yml` with its Slack receiver pointed at a local
webhook. Two sources of metrics:

- an exporter in this process exposing the processor's counter
  `dua_processor_violations_total{rule, severity, service, mode}` (fast, isolates the rules);
- the real processor (`dua run processor`) classifying a real event from the real broker,
  with the real notifier posting the same violation to its own webhook.

Every wait has a deadline; Prometheus, Alertmanager and the processor are stopped in teardown.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml
from confluent_kafka import Producer
from prometheus_client import CollectorRegistry, Counter, start_http_server

from dua.commands.notifier import run_notifier
from dua.kafka import free_ports
from dua.settings import Settings
from dua_schemas import WireCodec, event_from_json
from dua_stream.notifier.testing import RecordingWebhook

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
ALERTMANAGER_CONFIG = REPO / "deploy" / "alertmanager" / "alertmanager.yml"
DUA = str(Path(sys.executable).with_name("dua"))
DEADLINE_S = 60.0
# The real processor needs a Faust start-up and a consumer-group join on top.
PIPELINE_DEADLINE_S = 120.0


class Start(Protocol):
    """The `processes` fixture: start a child process that teardown stops."""

    def __call__(
        self, command: list[str], name: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]: ...


def _require(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"{binary} is not installed (`make setup` installs it on Debian)")
    return path


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def _ready(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=5) as response:
        return bool(response.status == 200)


def _wait(what: str, check: Callable[[], bool], deadline: float) -> None:
    while True:
        try:
            if check():
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Start]:
    """`start(command, name)`: a child process logging to tmp_path; all stopped afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start(
        command: list[str], name: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with (tmp_path / f"{name}.log").open("wb") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path
            )
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class AlertingStack:
    """Prometheus and Alertmanager on free ports, configured from the repository's files."""

    def __init__(self, tmp_path: Path, start: Start, webhook_url: str, target: str) -> None:
        prometheus = _require("prometheus")
        alertmanager = _require("prometheus-alertmanager")
        self.prometheus_port, self.alertmanager_port = free_ports(2)
        self.api = f"http://127.0.0.1:{self.prometheus_port}/api/v1"
        start(
            [
                alertmanager,
                f"--config.file={self._alertmanager_config(tmp_path, webhook_url)}",
                f"--storage.path={tmp_path / 'alertmanager-data'}",
                f"--web.listen-address=127.0.0.1:{self.alertmanager_port}",
                "--cluster.listen-address=",
            ],
            "alertmanager",
        )
        start(
            [
                prometheus,
                f"--config.file={self._prometheus_config(tmp_path, target)}",
                f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{self.prometheus_port}",
            ],
            "prometheus",
        )

    def _alertmanager_config(self, tmp_path: Path, webhook_url: str) -> Path:
        config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
        url_file = tmp_path / "alert_webhook_url"
        url_file.write_text(webhook_url)
        for receiver in config["receivers"]:
            for slack in receiver.get("slack_configs", []):
                slack["api_url_file"] = str(url_file)
        path = tmp_path / "alertmanager.yml"
        path.write_text(yaml.safe_dump(config))
        return path

    def _prometheus_config(self, tmp_path: Path, target: str) -> Path:
        config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
        config["global"].update(scrape_interval="1s", evaluation_interval="1s")
        config["alerting"]["alertmanagers"] = [
            {"static_configs": [{"targets": [f"127.0.0.1:{self.alertmanager_port}"]}]}
        ]
        config["scrape_configs"] = [
            {"job_name": "dua-processor", "static_configs": [{"targets": [target]}]}
        ]
        for rule_file in config["rule_files"]:
            shutil.copy(PROMETHEUS_DIR / rule_file, tmp_path / rule_file)
        path = tmp_path / "prometheus.yml"
        path.write_text(yaml.safe_dump(config))
        return path

    def wait_until_scraping(self, deadline: float) -> None:
        """Alertmanager answers and Prometheus has scraped its target successfully once."""
        _wait(
            "Alertmanager to be ready",
            lambda: _ready(f"http://127.0.0.1:{self.alertmanager_port}/-/ready"),
            deadline,
        )
        up = urllib.parse.quote('up{job="dua-processor"} == 1')
        _wait(
            "Prometheus to scrape its target",
            lambda: bool(_get_json(f"{self.api}/query?query={up}")["data"]["result"]),
            deadline,
        )

    def firing(self, alertname: str) -> list[dict[str, str]]:
        """Labels of the alerts of that name Prometheus holds now."""
        alerts = _get_json(f"{self.api}/alerts")["data"]["alerts"]
        return [a["labels"] for a in alerts if a["labels"]["alertname"] == alertname]


def test_critical_violation_reaches_the_webhook(tmp_path: Path, processes: Start) -> None:
    """An active critical violation becomes a DuaCriticalViolation message; shadow does not."""
    deadline = time.monotonic() + DEADLINE_S
    (exporter_port,) = free_ports(1)
    registry = CollectorRegistry()
    violations = Counter(
        "dua_processor_violations",
        "Violations found, by rule, severity, service and mode.",
        ["rule", "severity", "service", "mode"],
        registry=registry,
    )
    # Both at 0 and scraped first, so the rise is what increase() sees.
    active = violations.labels("payroll_data_misuse", "critical", "airwork-payroll", "active")
    shadow = violations.labels("employer_disclosure", "critical", "rikunabi", "shadow")
    server, _thread = start_http_server(exporter_port, addr="127.0.0.1", registry=registry)

    with RecordingWebhook() as hook:
        try:
            stack = AlertingStack(tmp_path, processes, hook.url, f"127.0.0.1:{exporter_port}")
            stack.wait_until_scraping(deadline)
            active.inc()
            shadow.inc(5)
            (message,) = hook.wait_for(1, timeout=max(1.0, deadline - time.monotonic()))
            firing = stack.firing("DuaCriticalViolation")
        finally:
            server.shutdown()
            server.server_close()

    (attachment,) = message["attachments"]
    assert attachment["title"] == "[FIRING] DuaCriticalViolation (critical)"
    assert "payroll_data_misuse in airwork-payroll" in attachment["text"]
    assert "docs/runbook.md#duacriticalviolation" in attachment["text"]
    assert [labels["rule"] for labels in firing] == ["payroll_data_misuse"]
    assert "employer_disclosure" not in json.dumps(hook.payloads)


def _processor_env(settings: Settings, metrics_port: int, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUA_")}
    env.update(
        DUA_KAFKA_BOOTSTRAP=str(settings.kafka_bootstrap),
        DUA_STATE_DIR=str(tmp_path / "processor-state"),
        DUA_TOPIC_PARTITIONS=str(settings.topic_partitions),
        DUA_PROCESSOR_APP_ID=f"test-processor-{uuid.uuid4().hex[:8]}",
        DUA_PROCESSOR_METRICS_PORT=str(metrics_port),
        DUA_METRICS_HOST="127.0.0.1",
    )
    for role, topic in asdict(settings.topics).items():
        env[f"DUA_TOPIC_{role.upper()}"] = topic
    return env


def _payroll_misuse_event() -> bytes:
    """A salary read for a marketing campaign: payroll_data_misuse, critical."""
    event = event_from_json(
        {
            "event_id": str(uuid.uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(),
            "service": "rikunabi",
            "actor": {"kind": "SERVICE", "id": "campaign-mailer"},
            "subject_id": "p-e2e",
            "elements": ["user.financial.salary"],
            "purpose": "marketing.campaign_notice",
        }
    )
    return WireCodec().encode("DataAccessEvent", dict(event))


def test_real_processor_violation_reaches_alerts_and_notifier(
    tmp_path: Path, processes: Start, settings_factory: Callable[..., Settings]
) -> None:
    """One payroll misuse through the real processor: an alert and a notifier message."""
    deadline = time.monotonic() + PIPELINE_DEADLINE_S
    metrics_port, notifier_metrics_port = free_ports(2)
    with RecordingWebhook() as alert_hook, RecordingWebhook() as notifier_hook:
        settings = settings_factory(
            partitions=1,
            notifier_webhook_url=notifier_hook.url,
            notifier_group=f"test-notifier-{uuid.uuid4().hex[:8]}",
            notifier_group_window_s=1.0,
            notifier_metrics_port=notifier_metrics_port,
        )
        processes(
            [DUA, "run", "processor"],
            "processor",
            env=_processor_env(settings, metrics_port, tmp_path),
        )
        stack = AlertingStack(tmp_path, processes, alert_hook.url, f"127.0.0.1:{metrics_port}")
        stop = threading.Event()
        notifier = threading.Thread(target=run_notifier, args=(settings, stop), daemon=True)
        notifier.start()
        try:
            stack.wait_until_scraping(deadline)
            producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
            producer.produce(settings.topic_raw, _payroll_misuse_event(), key=b"p-e2e")
            assert producer.flush(10) == 0

            left = max(1.0, deadline - time.monotonic())
            (alert,) = alert_hook.wait_for(1, timeout=left)
            (notice,) = notifier_hook.wait_for(1, timeout=max(1.0, deadline - time.monotonic()))
        finally:
            stop.set()
            notifier.join(30)

    assert alert["attachments"][0]["title"] == "[FIRING] DuaCriticalViolation (critical)"
    assert "payroll_data_misuse in rikunabi" in alert["attachments"][0]["text"]
    assert "[CRITICAL] payroll_data_misuse in rikunabi: 1 violation" in notice["text"]
    assert "user.financial.salary" in json.dumps(notice["blocks"])
