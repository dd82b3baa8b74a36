"""The local Apache Kafka broker (KRaft; one node, or a local cluster of three) and its tooling.

`resolve_jars` fetches the broker's jars once into a user cache, `LocalBroker` starts and stops
it (secured with SASL/SCRAM and ACLs given a `BrokerSecurity`), `LocalCluster` runs three of them
as one cluster, `describe_cluster` tells who leads which partition, `ensure_topics` creates the
pipeline's topics, `pipeline_grants` and `grant_acls` give each principal its permissions,
`bootstrap_servers` tells every command which Kafka to use and `client_config` how to log in.
"""

from __future__ import annotations

from dua.kafka.acls import Grant, grant_acls, pipeline_grants
from dua.kafka.bootstrap import bootstrap_servers, local_broker, local_cluster
from dua.kafka.broker import LocalBroker
from dua.kafka.cluster import ClusterLayout, LocalCluster
from dua.kafka.config import (
    BrokerConfig,
    BrokerSecurity,
    ClusterMember,
    render_server_properties,
)
from dua.kafka.credentials import Credentials
from dua.kafka.errors import BrokerError, MissingTool, TopicError
from dua.kafka.jars import KafkaJars, cache_root, resolve_jars
from dua.kafka.lag import group_lag
from dua.kafka.leaders import ClusterView, PartitionView, describe_cluster, topic_settings
from dua.kafka.ports import free_ports
from dua.kafka.record import BrokerRecord
from dua.kafka.security import client_config
from dua.kafka.toolchain import require_tool
from dua.kafka.topics import delete_topics, ensure_topics, topic_partitions

__all__ = [
    "BrokerConfig",
    "BrokerError",
    "BrokerRecord",
    "BrokerSecurity",
    "ClusterLayout",
    "ClusterMember",
    "ClusterView",
    "Credentials",
    "Grant",
    "KafkaJars",
    "LocalBroker",
    "LocalCluster",
    "MissingTool",
    "PartitionView",
    "TopicError",
    "bootstrap_servers",
    "cache_root",
    "client_config",
    "delete_topics",
    "describe_cluster",
    "ensure_topics",
    "free_ports",
    "grant_acls",
    "group_lag",
    "local_broker",
    "local_cluster",
    "pipeline_grants",
    "render_server_properties",
    "require_tool",
    "resolve_jars",
    "topic_partitions",
    "topic_settings",
]
