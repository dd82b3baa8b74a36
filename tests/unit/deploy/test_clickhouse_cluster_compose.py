"""docker-compose.clickhouse-cluster.yml hangs together with deploy/clickhouse/cluster: two
replicas and a Keeper, parsed and cross-checked without a Docker engine."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from dua.settings import Settings

REPO = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((REPO / "docker-compose.clickhouse-cluster.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
MAIN = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
CLUSTER_XML = ET.parse(REPO / "deploy" / "clickhouse" / "cluster" / "cluster.xml").getroot()
KEEPER_XML = ET.parse(REPO / "deploy" / "clickhouse" / "cluster" / "keeper.xml").getroot()
REPLICAS = ("clickhouse-1", "clickhouse-2")


def _environment(service: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in service.get("environment", {}).items()}


def _text(root: ET.Element, path: str) -> str:
    element = root.find(path)
    assert element is not None, path
    return (element.text or "").strip()


def _cluster_name() -> str:
    remote = CLUSTER_XML.find("remote_servers")
    assert remote is not None
    (cluster,) = list(remote)
    return cluster.tag


def _cluster_replicas() -> list[tuple[str, int]]:
    return [
        (_text(replica, "host"), int(_text(replica, "port")))
        for replica in CLUSTER_XML.iterfind("remote_servers/*/shard/replica")
    ]


def test_images_are_pinned_and_the_server_is_the_main_file_s() -> None:
    """Every image is tagged; the servers run the very image of docker-compose.yml's."""
    for name, service in SERVICES.items():
        image = service["image"]
        assert ":" in image, f"{name}: {image}"
        assert not image.endswith(":latest"), f"{name}: {image}"
    for name in REPLICAS:
        assert SERVICES[name]["image"] == MAIN["clickhouse"]["image"]
    keeper_tag = SERVICES["keeper"]["image"].rsplit(":", 1)[1]
    assert keeper_tag == MAIN["clickhouse"]["image"].rsplit(":", 1)[1]


@pytest.mark.parametrize("name", REPLICAS)
def test_each_replica_is_a_replica_of_the_cluster(name: str) -> None:
    """Its hostname, its `{replica}` macro and a replica of remote_servers are one name, and it
    mounts the cluster config and the users of the single-server setup."""
    service = SERVICES[name]
    assert service["hostname"] == name
    assert _environment(service)["CLICKHOUSE_REPLICA"] == name
    macro = CLUSTER_XML.find("macros/replica")
    assert macro is not None
    assert macro.attrib["from_env"] == "CLICKHOUSE_REPLICA"
    assert (name, 9000) in _cluster_replicas()
    assert "9000" in service["expose"]
    assert "9009" in service["expose"]  # interserver HTTP: replicas fetch parts from each other
    mounts = {str(volume).split(":")[1] for volume in service["volumes"]}
    assert "/etc/clickhouse-server/config.d/cluster.xml" in mounts
    assert "/etc/clickhouse-server/users.d" in mounts
    assert service["depends_on"]["keeper"]["condition"] == "service_started"


def test_the_cluster_has_one_shard_of_two_replicas_with_internal_replication() -> None:
    """Replication is the tables' job (internal_replication), over exactly the two servers."""
    shards = CLUSTER_XML.findall("remote_servers/*/shard")
    assert len(shards) == 1
    assert _text(shards[0], "internal_replication") == "true"
    assert sorted(host for host, _ in _cluster_replicas()) == list(REPLICAS)
    secret = CLUSTER_XML.find("remote_servers/*/secret")
    assert secret is not None
    for name in REPLICAS:
        assert secret.attrib["from_env"] in _environment(SERVICES[name])


def test_the_servers_reach_the_keeper_where_it_listens() -> None:
    """zookeeper/node in cluster.xml is the keeper service on keeper.xml's client port."""
    assert _text(CLUSTER_XML, "zookeeper/node/host") == "keeper"
    port = _text(CLUSTER_XML, "zookeeper/node/port")
    assert port == _text(KEEPER_XML, "keeper_server/tcp_port")
    assert port in SERVICES["keeper"]["expose"]
    raft = _text(KEEPER_XML, "keeper_server/raft_configuration/server/port")
    assert raft in SERVICES["keeper"]["expose"]
    assert _text(KEEPER_XML, "keeper_server/raft_configuration/server/hostname") == "keeper"


def test_replicated_tables_without_arguments_have_a_path_per_shard() -> None:
    """The migrations' Replicated*MergeTree engines take the default path: uuid and shard."""
    path = _text(CLUSTER_XML, "default_replica_path")
    assert "{uuid}" in path
    assert "{shard}" in path
    assert _text(CLUSTER_XML, "default_replica_name") == "{replica}"
    assert _text(CLUSTER_XML, "macros/shard")


def test_the_migration_runs_on_the_cluster_as_the_administrator() -> None:
    """db-migrate sets DUA_CLICKHOUSE_CLUSTER to the cluster's name and talks to a replica."""
    service = SERVICES["db-migrate"]
    env = _environment(service)
    settings = {f"DUA_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= settings
    assert env["DUA_CLICKHOUSE_CLUSTER"] == _cluster_name()
    host = re.search(r"@([a-z0-9-]+):(\d+)/", env["DUA_CLICKHOUSE_DSN"])
    assert host is not None
    assert host.group(1) in REPLICAS
    assert host.group(2) in SERVICES[host.group(1)]["expose"]
    assert service["command"] == ["db", "migrate"]
    for name in REPLICAS:
        assert service["depends_on"][name]["condition"] == "service_healthy"


def test_mounts_exist_and_named_volumes_are_declared() -> None:
    """Bind mounts point into the repository; named volumes are declared at the top level."""
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name}: {source}"
            else:
                assert source in COMPOSE["volumes"], f"{name}: {source}"
