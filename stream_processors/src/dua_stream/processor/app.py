"""The Faust app of the processor, built from a `ProcessorConfig`.

No agents: the raw and consent topics are subscribed through the conductor and delivered a
fetch at a time to the batch handler by `BatchingConsumer`. The two tables are ordinary
changelog-backed Faust tables, in memory (`OffsetMemoryStore`: rebuilt from their changelog
at start, and after a rebalance only from where their data ends).
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import faust

from dua_stream.processor.config import ProcessorConfig
from dua_stream.processor.consumer import BatchHandler, BatchingTransport
from dua_stream.processor.security import faust_credentials
from dua_stream.processor.state import TABLES
from dua_stream.processor.store import STORE_URL

DRAIN_TIMEOUT_S: Final = 30.0


class ProcessorApp(faust.App):
    """`faust.App` whose consumer hands the batch topics to `batch_handler`."""

    batch_handler: BatchHandler
    deliverer: Any  # the output producer, closed after the worker stops

    def _new_transport(self) -> Any:
        return BatchingTransport(self.conf.broker_consumer, self)

    async def on_stop(self) -> None:
        # Batches in flight are confirmed and acked first, so the final commit includes them.
        try:
            await asyncio.wait_for(self.batch_handler.drain(), DRAIN_TIMEOUT_S)
        except TimeoutError:
            self.log.warning("batches still unconfirmed at stop: they will be processed again")
        await super().on_stop()


def broker_urls(bootstrap: str) -> list[str]:
    """`host:port,host:port` as Faust's list of broker URLs."""
    return [f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip()]


def build_app(config: ProcessorConfig) -> tuple[ProcessorApp, dict[str, Any]]:
    """The app and its tables by name (`consent`, `reidentification`)."""
    tuning = config.tuning
    datadir = config.state_dir / "faust"
    datadir.parent.mkdir(parents=True, exist_ok=True)  # Faust creates only the last level
    app = ProcessorApp(
        config.app_id,
        broker=broker_urls(config.bootstrap),
        broker_credentials=faust_credentials(config.kafka_security),
        store=STORE_URL,
        datadir=str(datadir),
        web_enabled=False,
        autodiscover=False,
        topic_partitions=config.partitions,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        broker_max_poll_records=tuning.broker_max_poll_records,
        consumer_max_fetch_size=tuning.consumer_max_fetch_size,
        stream_buffer_maxsize=tuning.stream_buffer_maxsize,
        broker_commit_interval=tuning.commit_interval_s,
        broker_commit_every=tuning.commit_every,
        broker_session_timeout=tuning.session_timeout_s,
        broker_heartbeat_interval=tuning.heartbeat_interval_s,
        broker_max_poll_interval=tuning.max_poll_interval_s,
        table_standby_replicas=0,
    )
    for name in (config.topics.raw, config.topics.consent):
        app.topics.add(app.topic(name, key_serializer="raw", value_serializer="raw"))
    tables = {
        name: app.Table(
            name,
            default=None,
            partitions=config.partitions,
        )
        for name in TABLES
    }
    return app, tables
