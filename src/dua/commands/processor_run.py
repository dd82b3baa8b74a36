"""`dua run processor`: the Faust stream processor in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging

import click

from dua.kafka import bootstrap_servers, client_config, ensure_topics
from dua.settings import Settings, load_settings
from dua_schemas import ConfigError
from dua_stream.processor import ProcessorConfig, ProcessorTopics, Tuning

log = logging.getLogger("dua_stream.processor")

HOUR_MS = 3_600_000


def processor_config(
    settings: Settings, partitions: int, *, log_level: str = "info"
) -> ProcessorConfig:
    """The processor's configuration from the settings (and the running local broker)."""
    return ProcessorConfig(
        bootstrap=bootstrap_servers(settings),
        app_id=settings.processor_app_id,
        topics=ProcessorTopics(
            raw=settings.topic_raw,
            consent=settings.topic_consent,
            tagged=settings.topic_tagged,
            violations=settings.topic_violations,
            dlq=settings.topic_dlq,
        ),
        partitions=partitions,
        state_dir=settings.state_dir.resolve(),
        policy_path=settings.policy,
        schema_registry_url=settings.schema_registry_url,
        metrics_port=settings.processor_metrics_port or None,
        metrics_host=settings.metrics_host,
        kafka_security=client_config(settings, principal="processor"),
        tuning=Tuning(),
        log_level=log_level,
    )


def prepare_topics(settings: Settings) -> int:
    """Create the pipeline's topics when absent; the raw topic's partition count.

    The consent topic must have as many partitions as the raw one: both are keyed by subject,
    and the state of a subject is kept on the partition its events arrive on.
    """
    counts = ensure_topics(
        bootstrap_servers(settings),
        list(settings.topics.values()),
        partitions=settings.topic_partitions,
        retention_ms=settings.topic_retention_hours * HOUR_MS,
        config=client_config(settings, principal="processor"),
    )
    raw, consent = counts[settings.topic_raw], counts[settings.topic_consent]
    if raw != consent:
        raise ConfigError(
            f"topic {settings.topic_raw} has {raw} partitions but {settings.topic_consent} has "
            f"{consent}: both are keyed by subject and must be co-partitioned (same count)"
        )
    return raw


@click.command()
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warn", "error"]),
    default="info",
    show_default=True,
)
def processor(log_level: str) -> None:
    """Classify raw access events against the policy: tagged events, violations, DLQ.

    Creates the pipeline's topics when they are absent, reloads the policy file when it
    changes (or on SIGHUP), and serves Prometheus metrics on DUA_PROCESSOR_METRICS_PORT.
    """
    logging.basicConfig(
        level=log_level.upper().replace("WARN", "WARNING"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = load_settings()
    partitions = prepare_topics(settings)
    from dua_stream.processor import run_processor  # noqa: PLC0415 - loads Faust

    run_processor(processor_config(settings, partitions, log_level=log_level))
