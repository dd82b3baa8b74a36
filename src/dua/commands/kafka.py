"""`dua kafka up | down | status`: the local Apache Kafka broker under `<state_dir>/kafka`."""

from __future__ import annotations

import os
import time

import click

from dua.kafka import (
    BrokerSecurity,
    cache_root,
    ensure_topics,
    grant_acls,
    local_broker,
    pipeline_grants,
    resolve_jars,
    topic_partitions,
)
from dua.settings import load_settings

MS_PER_HOUR = 3_600_000


def _progress(line: str) -> None:
    click.echo(line, err=True)


@click.group()
def kafka() -> None:
    """Run the local Apache Kafka broker (single node, KRaft) that the pipeline uses by default."""


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
def up(timeout: float, secure: bool) -> None:
    """Start the broker if needed and create the topics.

    Resolves the broker's jars on first use (Maven, cached), starts the broker on 127.0.0.1,
    waits until it answers, creates the pipeline's topics and prints the bootstrap address.
    With --secure, it also creates the users producer, processor, sink and notifier (passwords
    in <state_dir>/kafka/credentials.json, never printed) and grants each one its ACLs.
    """
    settings = load_settings()
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
        jars = resolve_jars(settings.kafka_version, cache_root(os.environ), progress=_progress)
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
    counts = ensure_topics(
        record.bootstrap,
        settings.topics.values(),
        partitions=settings.topic_partitions,
        retention_ms=settings.topic_retention_hours * MS_PER_HOUR,
        config=admin,
    )
    for name, partitions in counts.items():
        click.echo(f"topic {name}: {partitions} partitions")
    if record.secured:
        # Every time: topic names may have changed since the broker started.
        bindings = grant_acls(record.bootstrap, admin, pipeline_grants(settings))
        click.echo(
            f"security {record.security_protocol} (SCRAM-SHA-512): {bindings} ACLs for "
            f"producer, processor, sink, notifier; passwords in {broker.credentials_path}"
        )
    if settings.kafka_bootstrap and settings.kafka_bootstrap != record.bootstrap:
        click.echo(
            f"note: DUA_KAFKA_BOOTSTRAP={settings.kafka_bootstrap} is set, so the pipeline "
            "uses that cluster, not this broker",
            err=True,
        )
    click.echo(f"bootstrap {record.bootstrap}")


@kafka.command()
@click.option("--purge", is_flag=True, help="Also delete the broker's data (topics, messages).")
def down(purge: bool) -> None:
    """Stop the broker; exit 0 also when none runs.

    Sends SIGTERM, then SIGKILL if it has not exited after 30 s, and waits until it is gone.
    """
    settings = load_settings()
    broker = local_broker(settings)
    record = broker.stop()
    if record is None:
        click.echo("no local Kafka broker runs")
    else:
        click.echo(f"stopped Kafka {record.version} (pid {record.pid}, {record.bootstrap})")
    if purge:
        broker.purge()
        click.echo(f"deleted {broker.data_dir}")


@kafka.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show the broker's version, address, pid and topics.

    Exit status 1 when no local broker runs.
    """
    settings = load_settings()
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
