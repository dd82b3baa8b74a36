"""The local cluster's configuration: each node's server.properties, its layout, its limits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dua.kafka import (
    BrokerConfig,
    BrokerError,
    BrokerRecord,
    ClusterMember,
    LocalCluster,
    bootstrap_servers,
    local_cluster,
    render_server_properties,
)
from dua.kafka.record import write_record
from dua.settings import load_settings
from dua_schemas import ConfigError

VOTERS = ((1, 41002), (2, 41012), (3, 41022))


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and line[0] != "#")
    return {key.strip(): value.strip() for key, value in pairs}


def test_a_cluster_node_names_every_voter_and_replicates_three_times(tmp_path: Path) -> None:
    """Node 2's properties: its own id, all three controllers, 3 replicas with 2 in sync."""
    member = ClusterMember(node_id=2, cluster_id="c", voters=VOTERS)
    config = BrokerConfig("127.0.0.1", 41011, 41012, tmp_path, node_id=2, member=member)
    props = _properties(render_server_properties(config))
    assert props["node.id"] == "2"
    assert props["controller.quorum.voters"] == (
        "1@127.0.0.1:41002,2@127.0.0.1:41012,3@127.0.0.1:41022"
    )
    for key in (
        "default.replication.factor",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
    ):
        assert props[key] == "3", key
    assert props["min.insync.replicas"] == "2"
    assert props["transaction.state.log.min.isr"] == "2"
    assert props["unclean.leader.election.enable"] == "false"
    assert props["broker.session.timeout.ms"] == "4000"


def test_a_single_broker_keeps_one_replica_and_kafka_s_session_timing(tmp_path: Path) -> None:
    """Without a cluster the rendered file is the single node's: itself the only voter."""
    props = _properties(render_server_properties(BrokerConfig("127.0.0.1", 41001, 41002, tmp_path)))
    assert props["controller.quorum.voters"] == "1@127.0.0.1:41002"
    assert props["default.replication.factor"] == "1"
    assert props["min.insync.replicas"] == "1"
    assert props["broker.session.timeout.ms"] == "9000"


@pytest.mark.parametrize(
    ("node", "replication", "in_sync"),
    [(4, 3, 2), (1, 4, 2), (1, 3, 4), (1, 3, 0)],
)
def test_impossible_memberships_are_refused(node: int, replication: int, in_sync: int) -> None:
    """A node outside the voters, or replication the cluster cannot hold, is refused."""
    with pytest.raises(BrokerError):
        ClusterMember(node, "c", VOTERS, replication, in_sync)


def test_a_node_on_another_controller_port_than_its_voter_entry_is_refused(
    tmp_path: Path,
) -> None:
    """The controller port a node listens on is the one the other voters dial."""
    member = ClusterMember(node_id=1, cluster_id="c", voters=VOTERS)
    with pytest.raises(BrokerError, match="controller port"):
        BrokerConfig("127.0.0.1", 41001, 41999, tmp_path, node_id=1, member=member)


def test_cluster_sizes_other_than_three_or_five_are_refused(tmp_path: Path) -> None:
    """Two nodes have no majority left when one goes: refused before anything starts."""
    cluster = LocalCluster(tmp_path)
    with pytest.raises(BrokerError, match="3 or 5"):
        cluster.start(jars=None, size=2)  # type: ignore[arg-type]
    assert cluster.layout() is None
    assert cluster.status() == {}
    assert not cluster.running()


def test_a_corrupt_layout_is_reported_with_its_path(tmp_path: Path) -> None:
    """A cluster.json that is not the layout fails naming the file and the way out."""
    (tmp_path / "cluster.json").write_text("{}")
    with pytest.raises(BrokerError, match=r"cluster\.json.*--purge"):
        LocalCluster(tmp_path).layout()


def test_a_running_cluster_is_what_the_pipeline_talks_to(tmp_path: Path) -> None:
    """No DUA_KAFKA_BOOTSTRAP, no single broker, a cluster with a node up: its three addresses."""
    cluster = local_cluster(load_settings(state_dir=tmp_path, kafka_bootstrap=None))
    layout = cluster._new_layout(3, "127.0.0.1")  # the layout, without starting a JVM
    node = cluster.node(2)
    node.home.mkdir(parents=True)
    # A process whose command line names the node's properties, as the broker's JVM does.
    stand_in = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", str(node.properties)]
    )
    try:
        write_record(
            node.record_path,
            BrokerRecord(
                pid=stand_in.pid,
                bootstrap=f"127.0.0.1:{layout.port(2)}",
                version="4.4.0",
                log_path=node.log_path,
                properties=node.properties,
                started_at="2026-01-01T00:00:00+00:00",
            ),
        )
        settings = load_settings(state_dir=tmp_path, kafka_bootstrap=None)
        assert bootstrap_servers(settings) == layout.bootstrap
        assert len(layout.bootstrap.split(",")) == 3
        assert [record is not None for record in cluster.status().values()] == [
            False,
            True,
            False,
        ]
    finally:
        stand_in.kill()
        stand_in.wait()
    with pytest.raises(ConfigError, match="no Kafka to talk to"):
        bootstrap_servers(load_settings(state_dir=tmp_path, kafka_bootstrap=None))
