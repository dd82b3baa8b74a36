"""`dua run processor`: the Faust stream processor in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import sys
from dataclasses import fields

import click

from dua.kafka import bootstrap_servers, client_config, ensure_topics, topic_partitions
from dua.settings import Settings, load_settings
from dua.worker_pool import WorkerPool, WorkerSpec
from dua_schemas import ConfigError
from dua_stream.processor import (
    ProcessorConfig,
    Tuning,
    changelog_topics,
    logging_level,
)

log = logging.getLogger("dua_stream.processor")

HOUR_MS = 3_600_000


def log_format(worker_index: int | None) -> str:
    """The processor's log line; worker i of a pool says `[worker i]` on every line."""
    prefix = "" if worker_index is None else f"[worker {worker_index}] "
    return f"%(asctime)s %(levelname)s {prefix}%(name)s: %(message)s"


def processor_config(
    settings: Settings,
    partitions: int,
    *,
    log_level: str = "info",
    worker_index: int | None = None,
) -> ProcessorConfig:
    """The processor's configuration from the settings (and the running local broker).

    `worker_index`: worker i of a pool (`--workers N`) keeps its tables under
    `<state_dir>/processor-<i>` and serves metrics on `DUA_PROCESSOR_METRICS_PORT + i`.
    """
    state_dir = settings.state_dir.resolve()
    metrics_port = settings.processor_metrics_port or None
    if worker_index is not None:
        state_dir = state_dir / f"processor-{worker_index}"
        if metrics_port is not None:
            metrics_port += worker_index
    return ProcessorConfig(
        bootstrap=bootstrap_servers(settings),
        app_id=settings.processor_app_id,
        topics=settings.topics,
        partitions=partitions,
        state_dir=state_dir,
        policy_path=settings.policy,
        schema_registry_url=settings.schema_registry_url,
        metrics_port=metrics_port,
        metrics_host=settings.metrics_host,
        kafka_security=client_config(settings, principal="processor"),
        tuning=processor_tuning(settings),
        log_level=log_level,
        log_format=log_format(worker_index),
    )


def processor_tuning(settings: Settings) -> Tuning:
    """The processor's `Tuning`, each value from its `DUA_PROCESSOR_<FIELD>` setting."""
    values = {f.name: getattr(settings, f"processor_{f.name}") for f in fields(Tuning)}
    return Tuning(**values)


def prepare_topics(settings: Settings) -> int:
    """Create the pipeline's topics when absent; the raw topic's partition count.

    The consent topic must have as many partitions as the raw one: both are keyed by subject,
    and the state of a subject is kept on the partition its events arrive on. For the same
    reason the state's changelog topics, once they exist, must keep that count: Faust would
    start on them and the state of a subject would be looked for on a partition it is not on.
    """
    bootstrap = bootstrap_servers(settings)
    config = client_config(settings, principal="processor")
    counts = ensure_topics(
        bootstrap,
        settings.topics.names(),
        partitions=settings.topic_partitions,
        retention_ms=settings.topic_retention_hours * HOUR_MS,
        config=config,
    )
    raw, consent = counts[settings.topic_raw], counts[settings.topic_consent]
    if raw != consent:
        raise ConfigError(
            f"topic {settings.topic_raw} has {raw} partitions but {settings.topic_consent} has "
            f"{consent}: both are keyed by subject and must be co-partitioned (same count)"
        )
    existing = topic_partitions(bootstrap, config=config)
    for changelog in changelog_topics(settings.processor_app_id).values():
        kept = existing.get(changelog)
        if kept is not None and kept != raw:
            raise ConfigError(
                f"topic {settings.topic_raw} has {raw} partitions but the processor's state "
                f"changelog {changelog} has {kept}: the state of a subject lives on the "
                "partition its events arrive on, so the input topics cannot change their "
                f"partition count under existing state. Give them back {kept} partitions, or "
                "start with a new DUA_PROCESSOR_APP_ID (a new group that reads both input "
                "topics again from their start and rebuilds its state; the repeated outputs "
                "are removed downstream by event_id)"
            )
    # Created here rather than by Faust, which would give them one replica whatever the
    # cluster has (its `topic_replication_factor`): here they get the broker's default (3 in
    # a cluster), so losing a broker never loses the processor's state. Compacted, as Faust's.
    ensure_topics(
        bootstrap,
        changelog_topics(settings.processor_app_id).values(),
        partitions=raw,
        config=config,
        topic_config={"cleanup.policy": "compact"},
    )
    return raw


def worker_specs(workers: int, log_level: str) -> list[WorkerSpec]:
    """The command lines of a pool's workers: this program, one worker each, numbered."""
    return [
        WorkerSpec(
            [
                sys.executable,
                "-m",
                "dua",
                "run",
                "processor",
                "--workers",
                "1",
                "--worker-index",
                str(index),
                "--log-level",
                log_level,
            ]
        )
        for index in range(workers)
    ]


@click.command()
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warn", "error"]),
    default="info",
    show_default=True,
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes in one consumer group, one core each; each is restarted if it "
    "dies. Default: DUA_PROCESSOR_WORKERS (1).",
)
@click.option("--worker-index", type=int, default=None, hidden=True)  # set by the pool
def processor(log_level: str, workers: int | None, worker_index: int | None) -> None:
    """Classify raw access events against the policy: tagged events, violations, DLQ.

    Creates the pipeline's topics when they are absent, reloads the policy file when it
    changes (or on SIGHUP), and serves Prometheus metrics on DUA_PROCESSOR_METRICS_PORT
    (worker i of several on that port + i). Batching, commits, rebalance timings, the
    producer and state expiry are tuned with DUA_PROCESSOR_* settings (see "Tuning" in
    stream_processors/README.md); the defaults are the measured ones.
    """
    logging.basicConfig(level=logging_level(log_level), format=log_format(worker_index))
    settings = load_settings()
    count = workers if workers is not None else settings.processor_workers
    if worker_index is None and count > 1:
        port = settings.processor_metrics_port
        if port and port + count - 1 > 65535:
            raise click.UsageError(
                f"{count} workers need metrics ports {port}..{port + count - 1}; "
                "lower DUA_PROCESSOR_METRICS_PORT"
            )
        prepare_topics(settings)  # once, before the workers: a problem is reported here
        log.info("starting %d processor workers in group %s", count, settings.processor_app_id)
        status = WorkerPool(worker_specs(count, log_level)).run()
        if status:
            raise SystemExit(status)
        return
    partitions = prepare_topics(settings)
    from dua_stream.processor import run_processor  # noqa: PLC0415 - loads Faust

    config = processor_config(settings, partitions, log_level=log_level, worker_index=worker_index)
    run_processor(config)
