"""Alerting end to end: real Prometheus and Alertmanager, the repository's own configuration.

Prometheus loads `deploy/prometheus/alerts.yml` (intervals shortened to 1 s) and scrapes an
exporter in this process that exposes the processor's violation counter,
`dua_processor_violations_total{rule, severity, service, mode}`; Alertmanager runs
`deploy/alertmanager/alertmanager.yml` with its Slack receiver pointed at a local webhook.
A critical violation must arrive there as a DuaCriticalViolation message; a shadow-mode one
must not. Bounded: every wait has a deadline, both processes are killed in teardown.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, start_http_server

from dua.kafka import free_ports
from dua_stream.notifier.testing import RecordingWebhook

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
ALERTMANAGER_CONFIG = REPO / "deploy" / "alertmanager" / "alertmanager.yml"
DEADLINE_S = 60.0


def _require(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"{binary} is not installed (`make setup` installs it on Debian)")
    return path


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read()) if "json" in response.headers["Content-Type"] else None


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


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[[list[str], str], subprocess.Popen[bytes]]]:
    """`start(command, name)`: a child process logging to tmp_path; all stopped afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start(command: list[str], name: str) -> subprocess.Popen[bytes]:
        process = _start(command, tmp_path / f"{name}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        _stop(process)


def _alertmanager_config(tmp_path: Path, webhook_url: str) -> Path:
    """The repository's Alertmanager config, its webhook URL file in tmp_path."""
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    url_file = tmp_path / "alert_webhook_url"
    url_file.write_text(webhook_url)
    for receiver in config["receivers"]:
        for slack in receiver.get("slack_configs", []):
            slack["api_url_file"] = str(url_file)
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def _prometheus_config(tmp_path: Path, exporter_port: int, alertmanager_port: int) -> Path:
    """The repository's Prometheus config: 1 s intervals, local targets, the same rules."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["alerting"]["alertmanagers"] = [
        {"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}
    ]
    config["scrape_configs"] = [
        {
            "job_name": "dua-processor",
            "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}],
        }
    ]
    for rule_file in config["rule_files"]:
        shutil.copy(PROMETHEUS_DIR / rule_file, tmp_path / rule_file)
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_critical_violation_reaches_the_webhook(
    tmp_path: Path, processes: Callable[[list[str], str], subprocess.Popen[bytes]]
) -> None:
    """An active critical violation becomes a DuaCriticalViolation message; shadow does not."""
    prometheus = _require("prometheus")
    alertmanager = _require("prometheus-alertmanager")
    deadline = time.monotonic() + DEADLINE_S
    exporter_port, prometheus_port, alertmanager_port = free_ports(3)

    registry = CollectorRegistry()
    violations = Counter(
        "dua_processor_violations",
        "Violations found, by rule, severity, service and mode.",
        ["rule", "severity", "service", "mode"],
        registry=registry,
    )
    active = violations.labels("payroll_data_misuse", "critical", "airwork-payroll", "active")
    shadow = violations.labels("employer_disclosure", "critical", "rikunabi", "shadow")
    server, _thread = start_http_server(exporter_port, addr="127.0.0.1", registry=registry)

    with RecordingWebhook() as hook:
        try:
            processes(
                [
                    alertmanager,
                    f"--config.file={_alertmanager_config(tmp_path, hook.url)}",
                    f"--storage.path={tmp_path / 'alertmanager-data'}",
                    f"--web.listen-address=127.0.0.1:{alertmanager_port}",
                    "--cluster.listen-address=",
                ],
                "alertmanager",
            )
            prometheus_config = _prometheus_config(tmp_path, exporter_port, alertmanager_port)
            processes(
                [
                    prometheus,
                    f"--config.file={prometheus_config}",
                    f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
                    f"--web.listen-address=127.0.0.1:{prometheus_port}",
                ],
                "prometheus",
            )
            api = f"http://127.0.0.1:{prometheus_port}/api/v1"
            query = urllib.parse.quote('dua_processor_violations_total{mode="active"}')

            # Both counters at 0 are scraped first, so the rise is seen by increase().
            _wait(
                "Prometheus to scrape the exporter",
                lambda: bool(_get(f"{api}/query?query={query}")["data"]["result"]),
                deadline,
            )
            _wait(
                "Alertmanager to be ready",
                lambda: _ready(f"http://127.0.0.1:{alertmanager_port}/-/ready"),
                deadline,
            )
            active.inc()
            shadow.inc(5)

            (message,) = hook.wait_for(1, timeout=max(1.0, deadline - time.monotonic()))
            alerts = _get(f"{api}/alerts")["data"]["alerts"]
        finally:
            server.shutdown()
            server.server_close()

    (attachment,) = message["attachments"]
    assert attachment["title"] == "[FIRING] DuaCriticalViolation (critical)"
    assert "payroll_data_misuse in airwork-payroll" in attachment["text"]
    assert "docs/runbook.md#duacriticalviolation" in attachment["text"]
    firing = [a for a in alerts if a["labels"]["alertname"] == "DuaCriticalViolation"]
    assert [a["labels"]["rule"] for a in firing] == ["payroll_data_misuse"]
    assert "employer_disclosure" not in json.dumps(hook.payloads)
