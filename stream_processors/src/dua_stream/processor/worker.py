"""`run_processor(config)`: the processor worker in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import faust
from faust.types import TP

from dua_schemas import codec_for
from dua_schemas.avro_reader import NATIVE
from dua_stream.processor.app import ProcessorApp, build_app
from dua_stream.processor.batch import BatchProcessor
from dua_stream.processor.codec import RecordCodec
from dua_stream.processor.config import ProcessorConfig, logging_level
from dua_stream.processor.consumer import BatchingConsumer
from dua_stream.processor.deliver import Deliverer
from dua_stream.processor.handler import ProcessorHandler
from dua_stream.processor.lag import partition_lag
from dua_stream.processor.metrics import ProcessorMetrics
from dua_stream.processor.reload import PolicyReloader
from dua_stream.processor.state import TableState

log = logging.getLogger("dua_stream.processor")

LAG_EVERY_S = 5.0


def producer_config(config: ProcessorConfig) -> dict[str, Any]:
    """The output producer's librdkafka settings."""
    tuning = config.tuning
    return {
        "bootstrap.servers": config.bootstrap,
        "client.id": f"{config.app_id}-outputs",
        "enable.idempotence": True,  # acks=all, no duplicates from the producer's own retries
        "linger.ms": tuning.producer_linger_ms,
        "queue.buffering.max.messages": tuning.producer_queue_max_messages,
        "compression.type": tuning.producer_compression,
        **config.kafka_security,
    }


def _now() -> datetime:
    return datetime.now(UTC)


def build_worker(config: ProcessorConfig, metrics: ProcessorMetrics) -> ProcessorApp:
    """Wire the app: policy, state, batch processor, producer, timers. Starts nothing yet."""
    reloader = PolicyReloader(
        config.policy_path,
        poll_s=config.tuning.policy_poll_s,
        on_change=lambda outcome, version: _policy_changed(metrics, outcome, version),
    )
    metrics.set_policy(reloader.engine.policy_version)
    log.info("policy %s in force", reloader.engine.policy_version)
    log.info(
        "Avro readers and writers: %s",
        "native" if NATIVE is not None else "Python (dua-schemas-native not installed, slower)",
    )
    app, tables = build_app(config)
    changelogs = {name: table.changelog_topic.get_topic_name() for name, table in tables.items()}
    state = TableState(tables["consent"].data.entries, tables["reidentification"].data.entries)
    processor = BatchProcessor(
        RecordCodec(codec_for(config.schema_registry_url)),
        config.topics,
        state,
        lambda: reloader.engine,
        changelogs,
        dlq_prefix_bytes=config.tuning.dlq_prefix_bytes,
        consent_grace_ms=config.tuning.consent_grace_ms,
        consent_retention_ms=int(config.tuning.consent_retention_days * 86_400_000),
    )
    if processor.native:
        log.info("access events: native path (dua_stream_native.AccessPath)")
    else:
        log.info(
            "access events: Python path (same results, ~2x slower): the native builds are "
            "not installed or not in use (schema registry); `make setup` builds it with cargo"
        )
    deliverer = Deliverer(
        producer_config(config), tracked=changelogs.values(), refresh=processor.refreshed
    )
    stores = {changelogs[name]: table.data for name, table in tables.items()}

    def tables_reflect(offsets: Mapping[tuple[str, int], int]) -> None:
        # a batch's changelog records are confirmed and its changes are in the tables: the
        # next recovery of a kept partition may start after them (see store.py)
        for (topic, partition), offset in offsets.items():
            stores[topic].set_persisted_offset(TP(topic, partition), offset)

    handler = ProcessorHandler(
        processor,
        deliverer,
        metrics,
        raw_topic=config.topics.raw,
        consent_topic=config.topics.consent,
        max_in_flight=config.tuning.max_in_flight_batches,
        clock=_now,
        crash=app.crash,
        on_confirmed=tables_reflect,
        consent_grace_ms=config.tuning.consent_grace_ms,
    )
    app.batch_handler = handler

    @app.task  # type: ignore[untyped-decorator]
    async def serve_deliveries() -> None:
        await deliverer.serve()

    @app.task  # type: ignore[untyped-decorator]
    async def on_sighup() -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reloader.request)

    @app.timer(interval=min(config.tuning.policy_poll_s, 1.0))  # type: ignore[untyped-decorator]
    async def check_policy() -> None:
        try:
            reloader.maybe_reload()
        except Exception:  # a reload problem must never stop the worker
            log.exception("checking the policy file failed")

    _keep_state(
        app,
        config,
        state=state,
        processor=processor,
        handler=handler,
        reloader=reloader,
        metrics=metrics,
    )

    @app.timer(interval=LAG_EVERY_S)  # type: ignore[untyped-decorator]
    async def report_lag() -> None:
        consumer = cast(BatchingConsumer, app.consumer)
        lags = {}
        for tp in consumer.assignment():
            if tp.topic not in handler.topics:
                continue
            highwater = _highwater(consumer, tp)
            if highwater is not None:
                lags[(tp.topic, tp.partition)] = partition_lag(
                    highwater,
                    handler.positions.get((tp.topic, tp.partition)),
                    consumer.committed_position(tp),
                    consumer.consumed_position(tp),
                    idle=handler.idle,
                )
        metrics.set_lag(lags)

    app.deliverer = deliverer
    return app


def _keep_state(
    app: ProcessorApp,
    config: ProcessorConfig,
    *,
    state: TableState,
    processor: BatchProcessor,
    handler: ProcessorHandler,
    reloader: PolicyReloader,
    metrics: ProcessorMetrics,
) -> None:
    """The tables' upkeep: forget what a rebalance gave away, expire old re-identification
    entries, and report what is left."""
    owned_topics = frozenset((config.topics.raw, config.topics.consent))

    async def forget_partitions_given_away(
        _app: Any, assigned: Collection[Any], **_signal: Any
    ) -> None:
        # after every rebalance (its batches in flight confirmed before it): the tables'
        # entries of partitions now owned by another worker are stale copies; see retain()
        owned = {tp.partition for tp in assigned if tp.topic in owned_topics}
        forgotten = state.retain(owned)
        if forgotten:
            log.info("rebalance: forgot %d state entries of partitions given away", forgotten)
        metrics.set_state_entries(state.sizes())

    # mode's stub wants a receiver taking any positional arguments; this one takes the set
    app.on_partitions_assigned.connect(cast(Any, forget_partitions_given_away), weak=False)

    @app.timer(interval=config.tuning.expiry_every_s)  # type: ignore[untyped-decorator]
    async def expire_state() -> None:
        window = reloader.engine.policy.reidentification_window
        grace = timedelta(seconds=config.tuning.expiry_grace_s)
        count, tombstones = processor.expire((window + grace) // timedelta(milliseconds=1))
        if tombstones:
            await handler.send(tombstones)
            metrics.state_expired.inc(count)
        metrics.set_state_entries(state.sizes())  # what is left, every expiry round


def _logging_config(config: ProcessorConfig) -> dict[str, Any] | None:
    """Faust's logging set-up (it replaces the root handlers at start) in our format, so that
    its lines and ours read alike and a pool's worker prefix stays on every line."""
    if config.log_format is None:
        return None
    level = logging_level(config.log_level)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"dua": {"format": config.log_format}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "dua",
                "level": level,
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["default"]},
    }


def _highwater(consumer: Any, tp: Any) -> int | None:
    try:
        value = consumer.highwater(tp)
    except Exception:
        return None
    return None if value is None else int(value)


def _policy_changed(metrics: ProcessorMetrics, outcome: str, version: str) -> None:
    metrics.policy_reloads.labels(outcome).inc()
    if outcome == "loaded":
        metrics.set_policy(version)


def tune_garbage_collector(young_threshold: int) -> None:
    """Freeze what start-up built and collect the young generation less often (see Tuning);
    0 leaves CPython's collector as it is."""
    if young_threshold == 0:
        return
    gc.collect()
    gc.freeze()  # the app, policy and libraries: never garbage, never scanned again
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(young_threshold, older, oldest)


def run_processor(config: ProcessorConfig) -> None:
    """Run the worker until it is stopped; raises `PolicyError` if the policy does not load."""
    metrics = ProcessorMetrics()
    app = build_worker(config, metrics)
    tune_garbage_collector(config.tuning.gc_young_threshold)
    if config.metrics_port is not None:
        metrics.serve(config.metrics_port, config.metrics_host)
        log.info("metrics on http://%s:%d/metrics", config.metrics_host, config.metrics_port)
    worker = faust.Worker(
        app,
        loglevel=config.log_level,
        quiet=True,
        redirect_stdouts=False,
        logging_config=_logging_config(config),
    )
    try:
        worker.execute_from_commandline()
    finally:
        undelivered = app.deliverer.close()
        if undelivered:
            log.warning(
                "%d outputs undelivered at exit: their inputs are not committed", undelivered
            )
