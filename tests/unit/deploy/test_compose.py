"""docker-compose.yml hangs together: no Docker engine needed, the file is parsed and checked.

Images are pinned, builds and mounts point at files of the repository, every `DUA_*`
variable is a real setting, every host:port names a service that listens there, and the
commands are real `dua` commands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from dua.cli import COMMANDS
from dua.commands.run import RUN_COMMANDS
from dua.settings import Settings

REPO = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
SETTINGS_VARIABLES = {f"DUA_{name.upper()}" for name in Settings.model_fields}
HOST_PORT = re.compile(r"(?<![\w./-])([a-z][a-z0-9-]*):(\d{2,5})\b")
INTERPOLATED = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)")


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _listening(name: str) -> set[int]:
    """Ports a service listens on: `expose`, and the container side of `ports`."""
    service = SERVICES[name]
    ports = {int(port) for port in service.get("expose", [])}
    for mapping in service.get("ports", []):
        ports.add(int(str(mapping).rsplit(":", 1)[-1].split("/")[0]))
    return ports


def _built_from_dockerfile(service: dict[str, Any]) -> bool:
    return "build" in service


def _clickhouse_env_passwords() -> set[str]:
    """The `from_env` variables of the users.d files mounted into the clickhouse service."""
    names: set[str] = set()
    for path in (REPO / "deploy" / "clickhouse" / "users.d").glob("*.xml"):
        for element in ElementTree.parse(path).iter():
            if "from_env" in element.attrib:
                names.add(element.attrib["from_env"])
    return names


def test_images_are_pinned() -> None:
    """Every image carries an explicit tag, never `latest`."""
    for name, service in SERVICES.items():
        image = service.get("image")
        assert image, f"{name}: no image"
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image}"
        assert tag, f"{name}: {image} has no tag"
        assert "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest", f"{name}: {image}"


def test_kafka_image_follows_the_settings() -> None:
    """The broker image is the Kafka version the settings (and the local broker) use."""
    version = Settings.model_fields["kafka_version"].default
    for name in ("kafka", "kafka-init"):
        assert SERVICES[name]["image"] == f"apache/kafka:{version}"


def test_builds_point_at_existing_dockerfiles() -> None:
    """Every build context exists and holds the Dockerfile it names."""
    built = [s for s in SERVICES.values() if _built_from_dockerfile(s)]
    assert built
    for service in built:
        context = REPO / service["build"]["context"]
        assert (context / service["build"].get("dockerfile", "Dockerfile")).is_file()


def test_dua_variables_are_settings_fields() -> None:
    """On the dua services every DUA_* variable is a field of `dua.settings.Settings`."""
    for name, service in SERVICES.items():
        for key in _environment(service):
            if not key.startswith("DUA_"):
                continue
            if _built_from_dockerfile(service):
                assert key in SETTINGS_VARIABLES, f"{name}: {key} is not a setting"
            else:
                assert name == "clickhouse", f"{name}: DUA_* variable {key} on a non-dua service"


def test_clickhouse_variables_are_the_passwords_its_users_read() -> None:
    """The DUA_* variables of the ClickHouse server are exactly the users.d `from_env` names."""
    keys = {k for k in _environment(SERVICES["clickhouse"]) if k.startswith("DUA_")}
    assert keys == _clickhouse_env_passwords()


def test_interpolated_host_variables_are_known() -> None:
    """`${DUA_*}` taken from the host is a setting or a ClickHouse password, nothing invented."""
    known = SETTINGS_VARIABLES | _clickhouse_env_passwords()
    text = (REPO / "docker-compose.yml").read_text()
    for variable in INTERPOLATED.findall(text):
        if variable.startswith("DUA_"):
            assert variable in known, variable


def test_host_ports_match_listening_services() -> None:
    """Every service:port in the file names a service that listens on that port."""
    seen = 0
    for name, service in SERVICES.items():
        addresses = {key: value for key, value in service.items() if key != "image"}
        for text in _strings(addresses):
            for host, port in HOST_PORT.findall(text):
                if host in SERVICES:
                    seen += 1
                    assert int(port) in _listening(host), f"{name}: {host}:{port}"
    assert seen >= 5, "the pattern found too few references"


def test_kafka_listens_where_it_advertises() -> None:
    """The broker's listeners, advertised address and the clients' bootstrap agree."""
    env = _environment(SERVICES["kafka"])
    listener_ports = {int(p) for p in re.findall(r":(\d+)", env["KAFKA_LISTENERS"])}
    assert listener_ports <= _listening("kafka")
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    for name, service in SERVICES.items():
        bootstrap = _environment(service).get("DUA_KAFKA_BOOTSTRAP")
        if bootstrap is not None:
            assert bootstrap == "kafka:9092", name


def test_topics_created_are_the_settings_topics() -> None:
    """kafka-init creates exactly the pipeline topics named by the settings' defaults."""
    script = " ".join(SERVICES["kafka-init"]["command"])
    listed = re.search(r"for topic in ([^;]+);", script)
    assert listed is not None
    expected = set(Settings.model_construct().topics.names())  # the settings' defaults
    assert set(listed.group(1).split()) == expected


def test_depends_on_names_services() -> None:
    """Every depends_on entry names a service of the file."""
    for name, service in SERVICES.items():
        for dependency in service.get("depends_on", []):
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"


def test_mounted_paths_exist() -> None:
    """Every bind mount of a local path points at something in the repository."""
    mounts = 0
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith("."):
                mounts += 1
                assert (REPO / source).exists(), f"{name}: {source}"
    assert mounts >= 5


def test_named_volumes_and_secrets_are_declared() -> None:
    """Named volumes and secrets used by services are declared at the top level."""
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in COMPOSE["volumes"], f"{name}: volume {source}"
        for secret in service.get("secrets", []):
            assert secret in COMPOSE["secrets"], f"{name}: secret {secret}"


def test_commands_are_dua_commands() -> None:
    """Services built from the Dockerfile run a registered `dua` command."""
    for name, service in SERVICES.items():
        if not _built_from_dockerfile(service):
            continue
        command = service["command"]
        assert command[0] in COMMANDS, f"{name}: dua {command[0]}"
        if command[0] == "run":
            assert command[1] in RUN_COMMANDS, f"{name}: dua run {command[1]}"


def test_alertmanager_reads_the_webhook_secret() -> None:
    """Alertmanager's receivers read their URL from a secret the service mounts."""
    config = yaml.safe_load((REPO / "deploy" / "alertmanager" / "alertmanager.yml").read_text())
    files = {
        slack["api_url_file"]
        for receiver in config["receivers"]
        for slack in receiver.get("slack_configs", [])
    }
    mounted = {f"/run/secrets/{s}" for s in SERVICES["alertmanager"].get("secrets", [])}
    assert files
    assert files <= mounted
    for secret in SERVICES["alertmanager"]["secrets"]:
        assert COMPOSE["secrets"][secret]["environment"] in SETTINGS_VARIABLES


@pytest.mark.parametrize("job", ["dua-processor", "dua-sink", "dua-notifier"])
def test_scrape_targets_are_the_services_metrics_ports(job: str) -> None:
    """Each dua job scrapes its service on the metrics port that service is configured with."""
    config = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
    (scrape,) = [s for s in config["scrape_configs"] if s["job_name"] == job]
    (target,) = [t for sc in scrape["static_configs"] for t in sc["targets"]]
    host, port = target.split(":")
    assert host in SERVICES
    field = f"{host}_metrics_port"
    assert field in Settings.model_fields, f"no setting {field} for the {host} service"
    configured = _environment(SERVICES[host]).get(
        f"DUA_{field.upper()}", str(Settings.model_fields[field].default)
    )
    assert int(port) == int(configured)
    assert int(port) in _listening(host)
    # The default, 127.0.0.1, is unreachable from the Prometheus container.
    assert _environment(SERVICES[host]).get("DUA_METRICS_HOST") == "0.0.0.0"


def test_prometheus_reaches_alertmanager() -> None:
    """Prometheus sends alerts to the alertmanager service's port and mounts its rules."""
    config = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = [
        t
        for am in config["alerting"]["alertmanagers"]
        for sc in am["static_configs"]
        for t in sc["targets"]
    ]
    assert targets == ["alertmanager:9093"]
    assert 9093 in _listening("alertmanager")
    assert "./deploy/prometheus:/etc/prometheus:ro" in SERVICES["prometheus"]["volumes"]


def test_schema_registry_stores_its_schemas_in_the_kafka_service() -> None:
    """The registry is Confluent's, pinned, keeps `_schemas` on the one broker (1 replica)
    and refuses a schema that cannot read the data written before it (BACKWARD)."""
    registry = SERVICES["schema-registry"]
    assert registry["image"].startswith("confluentinc/cp-schema-registry:")
    env = _environment(registry)
    assert env["SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"] == "PLAINTEXT://kafka:9092"
    assert 9092 in _listening("kafka")
    broker = _environment(SERVICES["kafka"])
    assert (
        env["SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR"]
        == broker["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]
    )
    assert env["SCHEMA_REGISTRY_SCHEMA_COMPATIBILITY_LEVEL"] == "backward"
    (port,) = re.findall(r":(\d+)$", env["SCHEMA_REGISTRY_LISTENERS"])
    assert int(port) in _listening("schema-registry")
    assert registry["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "healthcheck" in registry


@pytest.mark.parametrize("name", ["processor", "sink", "notifier"])
def test_dua_services_use_the_schema_registry(name: str) -> None:
    """The processor, sink and notifier read and write through the registry, once it answers."""
    service = SERVICES[name]
    url = _environment(service)["DUA_SCHEMA_REGISTRY_URL"]
    match = re.fullmatch(r"http://([a-z-]+):(\d+)", url)
    assert match, url
    assert match.group(1) in SERVICES
    assert int(match.group(2)) in _listening(match.group(1))
    assert service["depends_on"][match.group(1)]["condition"] == "service_healthy"
