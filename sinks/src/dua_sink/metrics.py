"""The sink's Prometheus metrics: names in one place, typed, served on one port."""

from __future__ import annotations

from contextlib import suppress
from typing import Final, Literal
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

MetricName = Literal[
    "dua_sink_rows_inserted",
    "dua_sink_insert_failures",
    "dua_sink_batch_rows",
    "dua_sink_consumer_lag",
    "dua_sink_rejected",
    "dua_sink_commits",
    "dua_sink_buffered_rows",
    "dua_sink_paused",
]

METRIC_HELP: Final[dict[MetricName, str]] = {
    "dua_sink_rows_inserted": "Rows inserted into ClickHouse, by table.",
    "dua_sink_insert_failures": "Inserts (or plan reads/writes) that failed, by table.",
    "dua_sink_batch_rows": "Rows per insert, by table.",
    "dua_sink_consumer_lag": "Messages behind the partition's end, by topic and partition.",
    "dua_sink_rejected": "Messages the sink could not decode, by reason.",
    "dua_sink_commits": "Offset commits made after successful inserts.",
    "dua_sink_buffered_rows": "Rows read and not yet written.",
    "dua_sink_paused": "1 while the sink has paused its partitions (ClickHouse down, buffer full).",
}

_BATCH_BUCKETS = (1, 10, 100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000)


class SinkMetrics:
    """The sink's instruments, in their own registry (tests make as many as they like)."""

    __slots__ = (
        "_batch_rows",
        "_buffered",
        "_commits",
        "_failures",
        "_lag",
        "_paused",
        "_rejected",
        "_rows",
        "_server",
        "registry",
    )

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self._rows = Counter(
            "dua_sink_rows_inserted", METRIC_HELP["dua_sink_rows_inserted"], ["table"], registry=r
        )
        self._failures = Counter(
            "dua_sink_insert_failures",
            METRIC_HELP["dua_sink_insert_failures"],
            ["table"],
            registry=r,
        )
        self._batch_rows = Histogram(
            "dua_sink_batch_rows",
            METRIC_HELP["dua_sink_batch_rows"],
            ["table"],
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self._lag = Gauge(
            "dua_sink_consumer_lag",
            METRIC_HELP["dua_sink_consumer_lag"],
            ["topic", "partition"],
            registry=r,
        )
        self._rejected = Counter(
            "dua_sink_rejected", METRIC_HELP["dua_sink_rejected"], ["reason"], registry=r
        )
        self._commits = Counter("dua_sink_commits", METRIC_HELP["dua_sink_commits"], registry=r)
        self._buffered = Gauge(
            "dua_sink_buffered_rows", METRIC_HELP["dua_sink_buffered_rows"], registry=r
        )
        self._paused = Gauge("dua_sink_paused", METRIC_HELP["dua_sink_paused"], registry=r)
        self._server: WSGIServer | None = None

    def inserted(self, table: str, rows: int) -> None:
        self._rows.labels(table=table).inc(rows)
        self._batch_rows.labels(table=table).observe(rows)

    def insert_failed(self, table: str) -> None:
        self._failures.labels(table=table).inc()

    def rejected(self, reason: str) -> None:
        self._rejected.labels(reason=reason).inc()

    def committed(self) -> None:
        self._commits.inc()

    def lag(self, topic: str, partition: int, messages: int) -> None:
        self._lag.labels(topic=topic, partition=str(partition)).set(messages)

    def forget_partition(self, topic: str, partition: int) -> None:
        with suppress(KeyError):
            self._lag.remove(topic, str(partition))

    def buffered(self, rows: int) -> None:
        self._buffered.set(rows)

    def paused(self, paused: bool) -> None:
        self._paused.set(1 if paused else 0)

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Serve /metrics on `host:port` (0: a free port); return the port."""
        self._server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return int(self._server.server_address[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
