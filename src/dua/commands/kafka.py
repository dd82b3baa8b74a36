"""`dua kafka up | down | status`: the local Apache Kafka broker under `<state_dir>/kafka`, or a
local cluster of three brokers (`--brokers 3`) under `<state_dir>/kafka/cluster`."""

from __future__ import annotations

import os
import time

import click

from dua.kafka import (
    BrokerRecord,
    BrokerSecurity,
    ClusterLayout,
    KafkaJars,
    LocalCluster,
    cache_root,
    describe_cluster,
    ensure_topics,
    grant_acls,
    local_broker,
    local_cluster,
    pipeline_grants,
    resolve_jars,
    topic_partitions,
)
from dua.settings import Settings, load_settings

MS_PER_HOUR = 3_600_000


def _progress(line: str) -> None:
    click.echo(line, err=True)


@click.group()
def kafka() -> None:
    """Run the local Apache Kafka broker (KRaft; one node, or a cluster of three) that the
    pipeline uses by default."""


@kafka.command()
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=120.0,
    show_default=True,
    help="Seconds to wait for the broker to answer.",
)
@click.option(
    "--secure",
    is_flag=True,
    help="Clients log in with SASL/SCRAM (SCRAM-SHA-512) and only ACLs grant access.",
)
@click.option(
    "--brokers",
    type=click.Choice(["1", "3"]),
    default="1",
    show_default=True,
    help="1: one broker; 3: a local cluster (topics with 3 replicas, 2 in sync).",
)
def up(timeout: float, secure: bool, brokers: str) -> None:
    """Start the broker if needed and create the topics.

    Resolves the broker's jars on first use (Maven, cached), starts the broker on 127.0.0.1,
    waits until it answers, creates the pipeline's topics and prints the bootstrap address.
    With --secure, it also creates the users producer, processor, sink and notifier (passwords
    in <state_dir>/kafka/credentials.json, never printed) and grants each one its ACLs.
    With --brokers 3, three brokers (each also a controller of the KRaft quorum) form one
    cluster: every topic gets 3 replicas and min.insync.replicas 2 (plaintext only).
    """
    settings = load_settings()
    if brokers != "1":
        if secure:
            raise click.ClickException("--secure is for one broker; a local cluster is plaintext")
        _up_cluster(settings, int(brokers), timeout)
        return
    if local_cluster(settings).running():
        raise click.ClickException(
            "a local cluster runs; stop it with `dua kafka down` before starting one broker"
        )
    broker = local_broker(settings, security=BrokerSecurity() if secure else None)
    record = broker.status()
    if record is not None:
        if secure and not record.secured:
            raise click.ClickException(
                f"a broker without security already runs at {record.bootstrap} "
                f"(pid {record.pid}); stop it with `dua kafka down` first"
            )
        click.echo(f"Kafka {record.version} already runs at {record.bootstrap} (pid {record.pid})")
    else:
        jars = _jars(settings)
        started = time.monotonic()
        record = broker.start(
            jars,
            port=settings.kafka_port,
            controller_port=settings.kafka_controller_port,
            heap=settings.kafka_heap,
            timeout=timeout,
            group_join_delay_ms=settings.kafka_group_join_delay_ms,
        )
        click.echo(
            f"started Kafka {record.version} at {record.bootstrap} in "
            f"{time.monotonic() - started:.1f} s (pid {record.pid}, log {record.log_path})"
        )
    admin = broker.client_config()
    _create_topics(settings, record.bootstrap, admin)
    if record.secured:
        # Every time: topic names may have changed since the broker started.
        bindings = grant_acls(record.bootstrap, admin, pipeline_grants(settings))
        click.echo(
            f"security {record.security_protocol} (SCRAM-SHA-512): {bindings} ACLs for "
            f"producer, processor, sink, notifier; passwords in {broker.credentials_path}"
        )
    _note_bootstrap(settings, record.bootstrap)
    click.echo(f"bootstrap {record.bootstrap}")


def _jars(settings: Settings) -> KafkaJars:
    return resolve_jars(settings.kafka_version, cache_root(os.environ), progress=_progress)


def _create_topics(settings: Settings, bootstrap: str, admin: dict[str, str]) -> None:
    # Replication factor and min.insync.replicas: the broker's defaults (1, or 3 and 2).
    counts = ensure_topics(
        bootstrap,
        settings.topics.names(),
        partitions=settings.topic_partitions,
        retention_ms=settings.topic_retention_hours * MS_PER_HOUR,
        config=admin,
    )
    for name, partitions in counts.items():
        click.echo(f"topic {name}: {partitions} partitions")


def _note_bootstrap(settings: Settings, bootstrap: str) -> None:
    if settings.kafka_bootstrap and settings.kafka_bootstrap != bootstrap:
        click.echo(
            f"note: DUA_KAFKA_BOOTSTRAP={settings.kafka_bootstrap} is set, so the pipeline "
            "uses that cluster, not this local Kafka",
            err=True,
        )


def _up_cluster(settings: Settings, size: int, timeout: float) -> None:
    single = local_broker(settings).status()
    if single is not None:
        raise click.ClickException(
            f"a single broker already runs at {single.bootstrap} (pid {single.pid}); "
            "stop it with `dua kafka down` first"
        )
    cluster = local_cluster(settings)
    layout = cluster.layout()
    if layout is not None and all(r is not None for r in cluster.status().values()):
        click.echo(f"a local Kafka cluster of {len(layout.nodes)} brokers already runs")
    else:
        jars = _jars(settings)
        started = time.monotonic()
        layout = cluster.start(
            jars,
            size=size,
            heap=settings.kafka_heap,
            timeout=timeout,
            group_join_delay_ms=settings.kafka_group_join_delay_ms,
        )
        click.echo(
            f"started a Kafka {jars.version} cluster of {size} brokers in "
            f"{time.monotonic() - started:.1f} s (logs under {cluster.home})"
        )
    for node, record in cluster.status().items():
        click.echo(_node_line(node, layout.port(node), record))
    _create_topics(settings, layout.bootstrap, {})
    _note_bootstrap(settings, layout.bootstrap)
    click.echo(f"bootstrap {layout.bootstrap}")


def _node_line(node: int, port: int, record: BrokerRecord | None) -> str:
    if record is None:
        return f"broker {node}: 127.0.0.1:{port} not running"
    return f"broker {node}: {record.bootstrap} pid {record.pid} (log {record.log_path})"


@kafka.command()
@click.option("--purge", is_flag=True, help="Also delete the broker's data (topics, messages).")
def down(purge: bool) -> None:
    """Stop the broker (or every broker of the local cluster); exit 0 also when none runs.

    Sends SIGTERM, then SIGKILL if it has not exited after 30 s, and waits until it is gone.
    """
    settings = load_settings()
    broker = local_broker(settings)
    cluster = local_cluster(settings)
    stopped = [record for record in (broker.stop(),) if record is not None] + cluster.stop()
    if not stopped:
        click.echo("no local Kafka broker runs")
    for record in stopped:
        click.echo(f"stopped Kafka {record.version} (pid {record.pid}, {record.bootstrap})")
    if purge:
        broker.purge()
        click.echo(f"deleted {broker.data_dir}")
        if cluster.layout() is not None:
            cluster.purge()
            click.echo(f"deleted {cluster.home}")


@kafka.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show the broker's version, address, pid and topics (a cluster: every broker, and the
    leader, replicas and in-sync replicas of every partition).

    Exit status 1 when no local broker runs.
    """
    settings = load_settings()
    cluster = local_cluster(settings)
    layout = cluster.layout()
    if layout is not None and cluster.running():
        _cluster_status(cluster, layout)
        return
    broker = local_broker(settings)
    record = broker.status()
    if record is None:
        click.echo("no local Kafka broker runs (start one with `dua kafka up`)")
        ctx.exit(1)
        return
    click.echo(f"Kafka {record.version} runs since {record.started_at}")
    click.echo(f"bootstrap {record.bootstrap}")
    click.echo(f"security {record.security_protocol}")
    click.echo(f"pid {record.pid}")
    click.echo(f"log {record.log_path}")
    topics = topic_partitions(record.bootstrap, config=broker.client_config())
    click.echo(f"topics ({len(topics)}):")
    for name, partitions in sorted(topics.items()):
        click.echo(f"  {name}: {partitions} partitions")


def _cluster_status(cluster: LocalCluster, layout: ClusterLayout) -> None:
    records = cluster.status()
    click.echo(f"Kafka cluster of {len(records)} brokers (plaintext)")
    click.echo(f"bootstrap {layout.bootstrap}")
    for node, record in records.items():
        click.echo(_node_line(node, layout.port(node), record))
    view = describe_cluster(layout.bootstrap)
    click.echo(f"controller {view.controller}; brokers answering {sorted(view.brokers)}")
    topics = sorted({p.topic for p in view.partitions})
    click.echo(f"topics ({len(topics)}):")
    for name in topics:
        click.echo(f"  {name}:")
        for p in view.of(name):
            replicas = ",".join(map(str, p.replicas))
            isr = ",".join(map(str, p.isr))
            leader = p.leader if p.leader >= 0 else "none"
            click.echo(
                f"    partition {p.partition}: leader {leader} replicas {replicas} in sync {isr}"
            )
