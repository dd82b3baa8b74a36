"""The Dockerfile copies and installs what exists; Grafana's provisioning parses and agrees."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
DOCKERFILE = (REPO / "Dockerfile").read_text()
GRAFANA = REPO / "deploy" / "grafana"
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
COMPONENTS = ("schemas", "policy", "producers/python", "stream_processors", "sinks", "compliance")


def _instructions(keyword: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [
        line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(keyword + " ")
    ]


def test_base_image_and_entrypoint() -> None:
    """python:3.11-slim, and the container runs the `dua` command."""
    assert _instructions("FROM")[-1] == "python:3.11-slim"
    assert json.loads(_instructions("ENTRYPOINT")[0]) == ["dua"]


def test_the_native_builds_are_built_in_a_stage_and_installed() -> None:
    """A Rust stage builds the schemas/native and stream_processors/native wheels (one cargo
    workspace) with the pinned maturin; the image installs them and checks that `dua version`
    reports both."""
    stages = _instructions("FROM")
    assert len(stages) == 2
    image, _as, name = stages[0].split()
    rust = re.fullmatch(r"rust:(\d+)\.(\d+)-slim-bookworm", image)
    assert rust is not None
    assert (int(rust[1]), int(rust[2])) >= (1, 85)  # pyo3's rust-version
    builds = " ".join(run for run in _instructions("RUN") if "maturin build" in run)
    for crate in ("schemas/native", "stream_processors/native"):
        native = REPO / crate
        maturin = re.search(r'"maturin==([\d.]+)"', (native / "pyproject.toml").read_text())
        assert maturin is not None
        assert f"maturin=={maturin[1]}" in DOCKERFILE
        assert f"COPY {crate}/ {crate}/" in DOCKERFILE
        assert crate in builds
    assert "COPY Cargo.toml ./" in DOCKERFILE  # the workspace: the crates share a target
    assert f"COPY --from={name} /wheels/ /tmp/wheels/" in DOCKERFILE
    installs = [run for run in _instructions("RUN") if "pip install -c" in run]
    assert any("/tmp/wheels/*.whl" in run for run in installs)
    assert 'dua version | grep -q "native Avro readers"' in DOCKERFILE
    assert 'dua version | grep -q "native access path"' in DOCKERFILE


def test_copied_paths_exist_and_are_not_ignored() -> None:
    """Every COPY source is in the repository and not excluded by .dockerignore."""
    ignored = [
        line.strip().rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for copy in _instructions("COPY"):
        if copy.startswith("--from="):
            continue  # from a build stage, not from the repository
        *sources, _destination = copy.split()
        for source in sources:
            assert (REPO / source).exists(), source
            assert source.rstrip("/") not in ignored, source


def test_every_component_is_installed_with_the_constraints() -> None:
    """pip installs the four components and the application, pinned by the constraints."""
    # (the native stage's own pip installs only maturin, pinned with ==: tested above)
    installs = [
        run for run in _instructions("RUN") if "pip install" in run and "/opt/maturin" not in run
    ]
    assert all("-c requirements/constraints.txt" in run for run in installs)
    words = " ".join(installs).split()
    for component in COMPONENTS:
        assert f"./{component}" in words
    assert "." in words


def test_datasources_point_at_compose_services() -> None:
    """ClickHouse is read as the read-only compliance user; both hosts are compose services."""
    provisioning = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "datasources.yml").read_text()
    )
    sources = {source["uid"]: source for source in provisioning["datasources"]}
    clickhouse = sources["dua-clickhouse"]
    assert clickhouse["type"] == "grafana-clickhouse-datasource"
    assert clickhouse["jsonData"]["host"] in COMPOSE["services"]
    assert str(clickhouse["jsonData"]["port"]) in COMPOSE["services"]["clickhouse"]["expose"]
    assert clickhouse["jsonData"]["username"] == "dua_compliance"
    password_variable = clickhouse["secureJsonData"]["password"].lstrip("$")
    assert password_variable in COMPOSE["services"]["grafana"]["environment"]
    assert sources["dua-prometheus"]["url"] == "http://prometheus:9090"


def test_clickhouse_plugin_is_installed_pinned() -> None:
    """The ClickHouse plugin is installed by GF_INSTALL_PLUGINS with a version."""
    plugins = COMPOSE["services"]["grafana"]["environment"]["GF_INSTALL_PLUGINS"]
    assert re.fullmatch(r"grafana-clickhouse-datasource \d+\.\d+\.\d+", plugins)


def test_dashboards_are_provisioned_from_the_mounted_directory() -> None:
    """The dashboard provider reads the directory compose mounts the repository's JSON into."""
    providers = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "dashboards.yml").read_text()
    )["providers"]
    mounts = dict(
        str(volume).split(":")[:2] for volume in COMPOSE["services"]["grafana"]["volumes"]
    )
    assert mounts["./deploy/grafana/dashboards"] == providers[0]["options"]["path"]


def test_dashboard_panels_use_provisioned_datasources() -> None:
    """The dashboard parses; each panel queries a provisioned data source; no ids leak."""
    provisioned = {
        source["uid"]
        for source in yaml.safe_load(
            (GRAFANA / "provisioning" / "datasources" / "datasources.yml").read_text()
        )["datasources"]
    }
    dashboards = list((GRAFANA / "dashboards").glob("*.json"))
    assert dashboards
    for path in dashboards:
        dashboard: dict[str, Any] = json.loads(path.read_text())
        assert dashboard["uid"]
        assert dashboard["panels"]
        for panel in dashboard["panels"]:
            assert panel["datasource"]["uid"] in provisioned, panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] in provisioned
                sql = target.get("rawSql", "")
                # The dashboard is wider than the compliance team: no subject or actor ids.
                assert "subject_id" not in sql, panel["title"]
                assert "actor_id" not in sql, panel["title"]
