"""The alert rules load, pass their promtool unit tests, and hang together with the code.

Checks that need promtool or amtool skip (saying why) where those are not installed;
`make setup` installs them on Debian.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

REPO = Path(__file__).resolve().parents[3]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
ALERTS = PROMETHEUS_DIR / "alerts.yml"
ALERTS_TEST = PROMETHEUS_DIR / "alerts_test.yml"
RUNBOOK = REPO / "docs" / "runbook.md"
ALERTMANAGER_CONFIG = REPO / "deploy" / "alertmanager" / "alertmanager.yml"

# A metric name in PromQL, but not part of a recorded `level:metric:ops` name.
_METRIC = re.compile(r"(?<![:\w])(dua_[a-z0-9_]+)(?![:\w])")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian: `make setup` installs it)")
    return path


def _run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Not check=True: the tests assert on the exit status and show the tool's own output.
    return subprocess.run(
        command, check=False, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _alerts() -> Iterator[dict[str, Any]]:
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                yield rule


ALERT_NAMES = [rule["alert"] for rule in _alerts()]


def _exported_metric_names() -> set[str]:
    """Every series name the processor, sink, SDK and notifier expose."""
    from dua_producer.metric_names import Metric  # noqa: PLC0415 - only this test needs them
    from dua_sink.metrics import SinkMetrics  # noqa: PLC0415
    from dua_stream.notifier import NotifierMetrics  # noqa: PLC0415
    from dua_stream.processor.metrics import ProcessorMetrics  # noqa: PLC0415

    names: set[str] = set()
    registries: list[CollectorRegistry] = [
        ProcessorMetrics().registry,
        SinkMetrics().registry,
        NotifierMetrics().registry,
    ]
    for registry in registries:
        for family in registry.collect():
            if family.type == "counter":
                names.add(f"{family.name}_total")
            elif family.type == "histogram":
                names.update(f"{family.name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
            else:
                names.add(family.name)
    for metric in Metric:
        names.add(metric.value)
        names.update(f"{metric.value}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
    return names


def test_promtool_checks_the_rules() -> None:
    """`promtool check rules` accepts alerts.yml."""
    result = _run(_tool("promtool"), "check", "rules", ALERTS.name, cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    """`promtool test rules` passes every firing and not-firing case of alerts_test.yml."""
    result = _run(_tool("promtool"), "test", "rules", ALERTS_TEST.name, cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_checks_the_prometheus_config() -> None:
    """`promtool check config` accepts prometheus.yml, rule files included."""
    result = _run(_tool("promtool"), "check", "config", "prometheus.yml", cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


def test_amtool_checks_the_alertmanager_config() -> None:
    """`amtool check-config` accepts alertmanager.yml."""
    result = _run(
        _tool("amtool"), "check-config", str(ALERTMANAGER_CONFIG), cwd=ALERTMANAGER_CONFIG.parent
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ALERT_NAMES)
def test_alert_is_labelled_and_annotated(name: str) -> None:
    """Each alert has a severity, a component, a summary, a description and a runbook anchor."""
    (rule,) = [r for r in _alerts() if r["alert"] == name]
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert rule["labels"]["component"]
    annotations = rule["annotations"]
    assert annotations["summary"].strip()
    assert annotations["description"].strip()
    assert annotations["runbook_url"] == f"docs/runbook.md#{name.lower()}"


@pytest.mark.parametrize("name", ALERT_NAMES)
def test_runbook_has_a_section_per_alert(name: str) -> None:
    """The runbook anchor of each alert exists: a `## <AlertName>` heading."""
    headings = re.findall(r"^## (\S+)\s*$", RUNBOOK.read_text(), flags=re.MULTILINE)
    assert name in headings


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    """alerts_test.yml has, for every alert, a case expecting it and a case expecting silence."""
    firing: set[str] = set()
    silent: set[str] = set()
    for case in yaml.safe_load(ALERTS_TEST.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    assert set(ALERT_NAMES) - firing == set(), "alerts never tested firing"
    assert set(ALERT_NAMES) - silent == set(), "alerts never tested silent"


def test_rules_use_only_metrics_the_code_exports() -> None:
    """Every metric name in an expression is exported by the processor, sink, SDK or notifier."""
    exported = _exported_metric_names()
    used: set[str] = set()
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        for rule in group["rules"]:
            used.update(_METRIC.findall(rule["expr"]))
    assert used, "no metric found in the rules: the pattern is wrong"
    assert used - exported == set()


def test_dashboard_queries_use_only_metrics_the_code_exports() -> None:
    """Every metric name in a Grafana panel's Prometheus query is exported by a component."""
    dashboards = ALERTS.parents[1] / "grafana" / "dashboards"
    used: set[str] = set()
    for path in dashboards.glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            if panel["datasource"]["type"] == "prometheus":
                for target in panel["targets"]:
                    used.update(_METRIC.findall(target["expr"]))
    assert "dua_processor_state_entries" in used  # the pattern finds what is there
    assert used - _exported_metric_names() == set()


def test_no_external_host_in_alerting_files() -> None:
    """Runbook links are relative and no alerting file names an external host."""
    for path in (ALERTS, ALERTMANAGER_CONFIG, PROMETHEUS_DIR / "prometheus.yml"):
        assert "://" not in path.read_text(), path
