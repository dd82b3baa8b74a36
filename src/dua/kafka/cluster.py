"""`LocalCluster`: three (or five) KRaft nodes on this machine, from the same jars as one broker.

Every node runs in one JVM as both broker and controller (combined roles): three processes
instead of six on a small machine, and the controllers' majority (2 of 3) survives any one node
down, as the brokers' replication does (3 replicas, 2 in sync). A node killed takes a voter
and a broker with it; a separate controller quorum would survive more, at twice the JVMs.

Its files live under one home (`<state_dir>/kafka/cluster`): `cluster.json`, the layout (cluster
id, host, each node's ports), chosen at the first start and kept, so a node restarted comes back
at the same address with the same storage; and `node-<id>/`, each node's `LocalBroker` home.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from dua.kafka.broker import LocalBroker, cluster_id
from dua.kafka.config import ClusterMember
from dua.kafka.errors import BrokerError
from dua.kafka.jars import KafkaJars
from dua.kafka.ports import free_ports
from dua.kafka.record import BrokerRecord

SIZES = (3, 5)  # odd: a majority of the controllers must survive a node down


@dataclass(frozen=True, slots=True)
class ClusterLayout:
    """Which nodes the cluster has and where they listen: fixed once its storage exists."""

    cluster_id: str
    host: str
    nodes: tuple[tuple[int, int, int], ...]  # (node id, client port, controller port)

    @property
    def bootstrap(self) -> str:
        """Every node's client address, as `bootstrap.servers`."""
        return ",".join(f"{self.host}:{port}" for _, port, _ in self.nodes)

    def member(self, node_id: int) -> ClusterMember:
        voters = tuple((node, controller) for node, _, controller in self.nodes)
        return ClusterMember(node_id=node_id, cluster_id=self.cluster_id, voters=voters)

    def port(self, node_id: int) -> int:
        return next(port for node, port, _ in self.nodes if node == node_id)

    def to_json(self) -> str:
        nodes = [{"node_id": n, "port": p, "controller_port": c} for n, p, c in self.nodes]
        return json.dumps({"cluster_id": self.cluster_id, "host": self.host, "nodes": nodes})


class LocalCluster:
    """Starts, checks, stops and restarts the nodes of the cluster whose files are under `home`."""

    __slots__ = ("_brokers", "home")

    def __init__(self, home: Path) -> None:
        self.home = home.resolve()
        self._brokers: dict[int, LocalBroker] = {}

    @property
    def layout_path(self) -> Path:
        return self.home / "cluster.json"

    def layout(self) -> ClusterLayout | None:
        """The cluster's layout, None before its first start (or after a purge)."""
        try:
            fields = json.loads(self.layout_path.read_text(encoding="utf-8"))
            nodes = tuple(
                (int(n["node_id"]), int(n["port"]), int(n["controller_port"]))
                for n in fields["nodes"]
            )
            return ClusterLayout(str(fields["cluster_id"]), str(fields["host"]), nodes)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BrokerError(
                f"{self.layout_path} is unreadable ({exc}); `dua kafka down --purge` starts afresh"
            ) from None

    def node(self, node_id: int) -> LocalBroker:
        """The `LocalBroker` of one node (the same object for the life of this cluster object)."""
        layout = self._require_layout()
        broker = self._brokers.get(node_id)
        if broker is None:
            member = layout.member(node_id)
            broker = self._brokers[node_id] = LocalBroker(
                self.home / f"node-{node_id}", member=member
            )
        return broker

    def status(self) -> dict[int, BrokerRecord | None]:
        """Each node's record while it runs, None for a node that does not; {} without a layout."""
        layout = self.layout()
        if layout is None:
            return {}
        return {node: self.node(node).status() for node, _, _ in layout.nodes}

    def running(self) -> bool:
        """Whether any node of the cluster runs."""
        return any(record is not None for record in self.status().values())

    def start(
        self,
        jars: KafkaJars,
        *,
        size: int = 3,
        host: str = "127.0.0.1",
        heap: str = "512m",
        timeout: float = 120.0,
        group_join_delay_ms: int = 0,
    ) -> ClusterLayout:
        """Launch every node that does not run, then wait until each answers.

        The layout is made at the first start (free ports, a new cluster id) and reused after;
        a different `size` than the stored one is refused: purge the cluster first.
        """
        if size not in SIZES:
            raise BrokerError(f"a local cluster has 3 or 5 nodes (a majority survives), not {size}")
        layout = self.layout() or self._new_layout(size, host)
        if len(layout.nodes) != size:
            raise BrokerError(
                f"the cluster under {self.home} has {len(layout.nodes)} nodes, not {size}; "
                "delete it (`dua kafka down --purge`) to start one of another size"
            )
        launched = []
        try:
            for node, port, controller in layout.nodes:
                broker = self.node(node)
                if broker.status() is None:
                    broker.launch(
                        jars,
                        host=layout.host,
                        port=port,
                        controller_port=controller,
                        heap=heap,
                        group_join_delay_ms=group_join_delay_ms,
                    )
                    launched.append(broker)
            deadline = time.monotonic() + timeout
            for broker in launched:
                broker.wait_ready(max(1.0, deadline - time.monotonic()))
        except BaseException:
            for broker in launched:
                broker.stop(timeout=10)
            raise
        return layout

    def restart(
        self, node_id: int, jars: KafkaJars, *, heap: str = "512m", timeout: float = 120.0
    ) -> BrokerRecord:
        """Start one node again (after a crash or a stop) at its own ports and storage."""
        layout = self._require_layout()
        _, port, controller = next(n for n in layout.nodes if n[0] == node_id)
        return self.node(node_id).start(
            jars,
            host=layout.host,
            port=port,
            controller_port=controller,
            heap=heap,
            timeout=timeout,
        )

    def stop(self, timeout: float = 30.0) -> list[BrokerRecord]:
        """Stop every node (SIGTERM, then SIGKILL); the records of those that ran."""
        stopped = []
        for node in self.status():
            record = self.node(node).stop(timeout)
            if record is not None:
                stopped.append(record)
        return stopped

    def purge(self) -> None:
        """Delete every node's data and the layout; refused while a node runs."""
        if self.running():
            raise BrokerError("stop the cluster (`dua kafka down`) before deleting its data")
        shutil.rmtree(self.home, ignore_errors=True)
        self._brokers.clear()

    def _require_layout(self) -> ClusterLayout:
        layout = self.layout()
        if layout is None:
            raise BrokerError(f"no local cluster was started under {self.home}")
        return layout

    def _new_layout(self, size: int, host: str) -> ClusterLayout:
        ports = free_ports(2 * size, host)
        nodes = tuple((n + 1, ports[2 * n], ports[2 * n + 1]) for n in range(size))
        layout = ClusterLayout(cluster_id(), host, nodes)
        self.home.mkdir(parents=True, exist_ok=True)
        partial = self.layout_path.with_suffix(".json.partial")
        partial.write_text(layout.to_json() + "\n", encoding="utf-8")
        partial.replace(self.layout_path)
        return layout
