"""`dua run sink`: the ClickHouse sink in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click

from dua.kafka import bootstrap_servers, client_config
from dua.settings import Settings, load_settings
from dua_schemas import codec_for
from dua_sink import SinkConfig, SinkTopics, run_sink

log = logging.getLogger("dua_sink.sink")


def sink_config(settings: Settings, *, group: str | None = None) -> SinkConfig:
    """The sink's configuration from the settings (and the running local broker)."""
    return SinkConfig(
        bootstrap=bootstrap_servers(settings),
        group=group or settings.sink_group,
        topics=SinkTopics.of(settings.topics),
        dsn=settings.effective_clickhouse_dsn,
        database=settings.clickhouse_database,
        retention_days=settings.retention_days,
        state_dir=settings.state_dir.resolve(),
        flush_interval_s=settings.sink_flush_interval_s,
        batch_max_rows=settings.sink_batch_max_rows,
        max_buffered_rows=settings.sink_max_buffered_rows,
        query_port=settings.sink_query_port,
        metrics_port=settings.sink_metrics_port,
        metrics_host=settings.metrics_host,
        kafka_options=client_config(settings, principal="sink"),
    )


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM / SIGINT set `stop` (flush, commit, exit); a second one exits at once."""

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("sink: %s received; flushing and stopping", signal.Signals(signum).name)
        stop.set()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command()
@click.option("--group", default=None, help="Kafka consumer group (default: DUA_SINK_GROUP).")
def sink(group: str | None) -> None:
    """Consume the tagged, violation and DLQ topics into ClickHouse, exactly once.

    With the embedded engine (the default) the sink owns its directory while it runs and
    serves read-only queries to `dua query`, `dua report` and `dua subject` on 127.0.0.1.
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = load_settings()
    stop = threading.Event()
    with stop_on_signals(stop):
        run_sink(
            sink_config(settings, group=group), stop, codec=codec_for(settings.schema_registry_url)
        )
