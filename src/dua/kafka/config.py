"""Renders the broker's `server.properties` from the templates in `deploy/kafka`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Final

from dua.kafka.errors import BrokerError
from dua.kafka.locator import asset_dir

SCRAM_MECHANISM: Final = "SCRAM-SHA-512"
ADMIN_USER: Final = "admin"
PIPELINE_USERS: Final = ("producer", "processor", "sink", "notifier")
# A user name must survive `--add-scram 'SCRAM-SHA-512=[name=...,password=...]'` and JAAS quoting.
_USER = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class BrokerSecurity:
    """What a secured broker (`dua kafka up --secure`) has: SCRAM users, a super user, ACLs on.

    `admin` is the super user the project itself logs in as; every user in `principals` gets
    SCRAM credentials and only the permissions ACLs grant it.
    """

    admin: str = ADMIN_USER
    principals: tuple[str, ...] = PIPELINE_USERS

    def __post_init__(self) -> None:
        for user in self.users:
            if not _USER.match(user):
                raise BrokerError(
                    f"user name {user!r} is not a letter followed by letters, digits, . _ -"
                )
        if len(set(self.users)) != len(self.users):
            raise BrokerError(f"user names repeat: {', '.join(self.users)}")

    @property
    def mechanism(self) -> str:
        return SCRAM_MECHANISM

    @property
    def users(self) -> tuple[str, ...]:
        """The admin first, then the principals."""
        return (self.admin, *self.principals)


@dataclass(frozen=True, slots=True)
class ClusterMember:
    """One node of a local cluster: its id, the cluster's id, every controller, replication.

    `voters` holds each node's (id, controller port); all of them run on the same host. A
    write to a topic needs `min_insync_replicas` of its `replication_factor` replicas.
    """

    node_id: int
    cluster_id: str
    voters: tuple[tuple[int, int], ...]
    replication_factor: int = 3
    min_insync_replicas: int = 2
    # Faster than Kafka's defaults (9000, 2000): a killed broker's partitions move in ~4 s.
    session_timeout_ms: int = 4000
    heartbeat_interval_ms: int = 1000

    def __post_init__(self) -> None:
        ids = [node for node, _ in self.voters]
        if self.node_id not in ids or len(set(ids)) != len(ids):
            raise BrokerError(f"node {self.node_id} is not exactly once among the voters {ids}")
        if not 1 <= self.min_insync_replicas <= self.replication_factor <= len(self.voters):
            raise BrokerError(
                f"replication {self.replication_factor} with {self.min_insync_replicas} in sync "
                f"does not fit a cluster of {len(self.voters)} nodes"
            )

    @property
    def controller_port(self) -> int:
        """This node's own controller port, as the voters list it."""
        return dict(self.voters)[self.node_id]


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """The values that differ between two local brokers: address, ports, data directory."""

    host: str
    broker_port: int
    controller_port: int
    log_dir: Path
    node_id: int = 1
    security: BrokerSecurity | None = None
    admin_password: str | None = field(default=None, repr=False)
    # How long a new consumer group waits for more members before its first rebalance.
    # Kafka's default is 3000; 0 lets each of the tests' many new groups start at once.
    group_join_delay_ms: int = 0
    # None: a single node, its own only controller, one replica of everything.
    member: ClusterMember | None = None

    def __post_init__(self) -> None:
        member = self.member
        if member is not None and (member.node_id, member.controller_port) != (
            self.node_id,
            self.controller_port,
        ):
            raise BrokerError(
                f"node {self.node_id} on controller port {self.controller_port} is not the "
                f"cluster member {member.node_id} on {member.controller_port}"
            )
        if self.security is not None and not self.admin_password:
            raise BrokerError("a secured broker needs the admin password to log in to itself")
        for name, port in (("broker", self.broker_port), ("controller", self.controller_port)):
            if not 0 < port < 65536:
                raise BrokerError(f"{name} port {port} is not a TCP port (1-65535)")
        if self.broker_port == self.controller_port:
            raise BrokerError(f"broker and controller cannot share port {self.broker_port}")
        if not 0 <= self.group_join_delay_ms <= 300_000:
            raise BrokerError(
                f"group join delay {self.group_join_delay_ms} ms is not within 0..300000"
            )

    @property
    def bootstrap(self) -> str:
        """What clients pass as `bootstrap.servers`."""
        return f"{self.host}:{self.broker_port}"

    @property
    def listener(self) -> str:
        """The security protocol (and name) of the client listener."""
        return "PLAINTEXT" if self.security is None else "SASL_PLAINTEXT"

    @property
    def quorum_voters(self) -> str:
        """Kafka's `controller.quorum.voters`: `id@host:port` of every controller."""
        voters: tuple[tuple[int, int], ...] = ((self.node_id, self.controller_port),)
        if self.member is not None:
            voters = self.member.voters
        return ",".join(f"{node}@{self.host}:{port}" for node, port in voters)


def render_server_properties(
    config: BrokerConfig, template: str | None = None, secure_template: str | None = None
) -> str:
    """Fill the `${...}` placeholders of the template (the shipped one unless given).

    A secured config also gets the secure overlay (`server-secure.properties` unless given)
    appended: SASL/SCRAM, the authorizer, the super user.
    """
    if template is None:
        template = (asset_dir() / "server.properties").read_text(encoding="utf-8")
    values: dict[str, object] = {
        "host": config.host,
        "broker_port": config.broker_port,
        "controller_port": config.controller_port,
        "log_dir": config.log_dir.as_posix(),
        "node_id": config.node_id,
        "listener": config.listener,
        "group_join_delay_ms": config.group_join_delay_ms,
        "quorum_voters": config.quorum_voters,
        **_replication(config.member),
    }
    text = _substitute("server.properties", template, values)
    if config.security is None:
        return text
    if secure_template is None:
        secure_template = (asset_dir() / "server-secure.properties").read_text(encoding="utf-8")
    values.update(
        mechanism=config.security.mechanism,
        mechanism_lower=config.security.mechanism.lower(),
        admin=config.security.admin,
        admin_password=config.admin_password,
    )
    return (
        text.rstrip("\n")
        + "\n\n"
        + _substitute("server-secure.properties", secure_template, values)
    )


def _replication(member: ClusterMember | None) -> dict[str, object]:
    if member is None:  # one broker: one replica; session timing at Kafka's defaults
        return {
            "replication_factor": 1,
            "min_insync_replicas": 1,
            "session_timeout_ms": 9000,
            "heartbeat_interval_ms": 2000,
        }
    return {
        "replication_factor": member.replication_factor,
        "min_insync_replicas": member.min_insync_replicas,
        "session_timeout_ms": member.session_timeout_ms,
        "heartbeat_interval_ms": member.heartbeat_interval_ms,
    }


def _substitute(name: str, template: str, values: dict[str, object]) -> str:
    try:
        return Template(template).substitute(values)
    except (KeyError, ValueError) as exc:
        raise BrokerError(f"{name} template has an unknown placeholder: {exc}") from None
