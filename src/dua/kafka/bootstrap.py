"""Which Kafka the pipeline talks to: the configured cluster, else the local broker."""

from __future__ import annotations

from dua.kafka.broker import LocalBroker
from dua.kafka.cluster import LocalCluster
from dua.kafka.config import BrokerSecurity
from dua.settings import Settings
from dua_schemas import ConfigError


def local_broker(settings: Settings, *, security: BrokerSecurity | None = None) -> LocalBroker:
    """The local broker whose files live under `<state_dir>/kafka` (secured with `security`)."""
    return LocalBroker(settings.state_dir / "kafka", security=security)


def local_cluster(settings: Settings) -> LocalCluster:
    """The local cluster (`dua kafka up --brokers 3`) under `<state_dir>/kafka/cluster`."""
    return LocalCluster(settings.state_dir / "kafka" / "cluster")


def bootstrap_servers(settings: Settings) -> str:
    """`settings.kafka_bootstrap`, else the running local broker's (or cluster's) addresses,
    else a `ConfigError`."""
    if settings.kafka_bootstrap:
        return settings.kafka_bootstrap
    record = local_broker(settings).status()
    if record is not None:
        return record.bootstrap
    cluster = local_cluster(settings)
    layout = cluster.layout()
    if layout is not None and cluster.running():
        return layout.bootstrap
    raise ConfigError(
        f"no Kafka to talk to: no local broker runs under {settings.state_dir / 'kafka'}; "
        "start one with `dua kafka up`, or set DUA_KAFKA_BOOTSTRAP to a cluster's bootstrap servers"
    )
