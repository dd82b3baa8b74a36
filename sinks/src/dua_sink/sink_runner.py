"""Composition root of `dua run sink`: connect, migrate, serve, consume, clean up."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Consumer

from dua_schemas import WireCodec
from dua_sink.audit_store import AuditStore
from dua_sink.chdb_engine import ReadOnlyChdb
from dua_sink.connection import ClickHouseClient, chdb_directory, connect, is_chdb, redact_dsn
from dua_sink.errors import MigrationError
from dua_sink.metrics import SinkMetrics
from dua_sink.migrations import migrate, pending_migrations
from dua_sink.query_endpoint import QueryEndpoint
from dua_sink.routing import RecordRouter
from dua_sink.sink_config import SinkConfig
from dua_sink.sink_loop import BatchingSink
from dua_sink.sink_state import SinkRecord, remove_record, write_record

log = logging.getLogger("dua_sink.sink")
ClientWrapper = Callable[[ClickHouseClient], ClickHouseClient]


def prepare_schema(client: ClickHouseClient, config: SinkConfig) -> None:
    """Embedded engine: apply pending migrations. Server: refuse to run on an old schema.

    On a server the sink's user may only insert; migrations are an administrator's
    `dua db migrate` with a DSN that may create tables.
    """
    if is_chdb(config.dsn):
        report = migrate(client, config.database, config.retention_days)
        for migration in report.applied:
            log.info("sink: applied migration %03d_%s", migration.version, migration.name)
        return
    pending = pending_migrations(client, config.database)
    if pending:
        names = ", ".join(f"{m.version:03d}_{m.name} ({m.state})" for m in pending)
        raise MigrationError(
            f"database {config.database} is not at the current schema: {names}; "
            "run `dua db migrate` with an administrator's DSN first"
        )


def run_sink(
    config: SinkConfig,
    stop: threading.Event,
    *,
    codec: WireCodec | None = None,
    wrap_client: ClientWrapper | None = None,
    on_ready: Callable[[SinkRecord], None] | None = None,
) -> None:
    """Run the sink until `stop` is set (the caller maps SIGTERM/SIGINT onto it)."""
    client = connect(config.dsn)
    if wrap_client is not None:
        client = wrap_client(client)
    metrics = SinkMetrics()
    endpoint: QueryEndpoint | None = None
    pid = os.getpid()
    try:
        prepare_schema(client, config)
        metrics_port = metrics.serve(config.metrics_port, config.metrics_host)
        if is_chdb(config.dsn):
            engine = ReadOnlyChdb(chdb_directory(config.dsn), config.database)
            endpoint = QueryEndpoint(engine, config.query_port)
            endpoint.start()
        record = SinkRecord(
            pid=pid,
            dsn=redact_dsn(config.dsn),
            database=config.database,
            query_port=endpoint.port if endpoint else 0,
            metrics_port=metrics_port,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        write_record(config.state_dir, record)
        log.info(
            "sink: reading %s as group %s into %s/%s; metrics on :%d%s",
            ", ".join(config.topics.names()),
            config.group,
            record.dsn,
            config.database,
            metrics_port,
            f"; read-only queries on 127.0.0.1:{record.query_port}" if endpoint else "",
        )
        if on_ready is not None:
            on_ready(record)
        consumer: Any = Consumer(config.consumer_config())
        router = RecordRouter(config.topics, codec or WireCodec())
        store = AuditStore(client, config.database, config.group)
        BatchingSink(consumer, router, store, config, metrics=metrics).run(stop)
    finally:
        remove_record(config.state_dir, pid)
        if endpoint is not None:
            endpoint.stop()
            endpoint.engine.close()
        metrics.stop()
        client.close()
        log.info("sink: stopped")
