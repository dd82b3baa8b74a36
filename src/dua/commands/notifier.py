"""`dua run notifier`: post active violations of `dua.violations` to the configured webhook.

Builds the notifier from the settings, serves `/metrics`, and runs until SIGTERM or SIGINT.
Registered in the `run` group (`dua.commands.run.RUN_COMMANDS`); `run_notifier` is the same
process without the command line, for tests and embedding.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click
from prometheus_client import start_http_server

from dua.kafka import bootstrap_servers, client_config
from dua.records_wiring import findings_source
from dua.settings import Settings, load_settings
from dua_schemas import ConfigError, codec_for
from dua_stream.notifier import (
    Dispatcher,
    NotifierConfig,
    NotifierMetrics,
    RecordsWatch,
    RetryPolicy,
    ViolationConsumer,
    WebhookPoster,
)

log = logging.getLogger(__name__)


def notifier_config(settings: Settings) -> NotifierConfig:
    """The dispatcher's configuration from the `DUA_NOTIFIER_*` settings."""
    return NotifierConfig(
        min_severity=settings.notifier_min_severity,
        group_window_s=settings.notifier_group_window_s,
        max_messages_per_minute=settings.notifier_max_messages_per_minute,
        immediate_severity=(
            None
            if settings.notifier_immediate_severity == "none"
            else settings.notifier_immediate_severity
        ),
    )


def webhook_poster(settings: Settings, metrics: NotifierMetrics) -> WebhookPoster:
    """The webhook client; a `ConfigError` when no webhook is configured."""
    if settings.notifier_webhook_url is None:
        raise ConfigError(
            "DUA_NOTIFIER_WEBHOOK_URL is not set: the notifier needs a Slack-compatible webhook"
        )
    return WebhookPoster(
        settings.notifier_webhook_url.get_secret_value(),
        timeout_s=settings.notifier_timeout_s,
        retry=RetryPolicy(max_attempts=settings.notifier_max_attempts),
        on_retry=metrics.retries.inc,
    )


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; posting what is pending and stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_notifier(settings: Settings, stop: threading.Event | None = None) -> None:
    """Run the notifier until `stop` is set (or, when None, until SIGTERM/SIGINT)."""
    metrics = NotifierMetrics()
    poster = webhook_poster(settings, metrics)
    dispatcher = Dispatcher(
        poster, notifier_config(settings), clock=time.monotonic, metrics=metrics
    )
    consumer = ViolationConsumer(
        bootstrap=bootstrap_servers(settings),
        topic=settings.topic_violations,
        group=settings.notifier_group,
        dispatcher=dispatcher,
        codec=codec_for(settings.schema_registry_url),
        extra_config=client_config(settings, principal="notifier"),
    )
    server, _thread = start_http_server(
        settings.notifier_metrics_port, addr=settings.metrics_host, registry=metrics.registry
    )
    log.info(
        "notifier: %s -> webhook at %s (min severity %s, window %.0f s), metrics on %s:%d",
        settings.topic_violations,
        poster.host,
        settings.notifier_min_severity,
        settings.notifier_group_window_s,
        settings.metrics_host,
        server.server_address[1],
    )
    on_signals = stop is None
    stop = stop if stop is not None else threading.Event()
    watch = _records_watch(settings, poster, metrics, stop)
    try:
        if not on_signals:
            consumer.run(stop)
        else:
            with _stop_on_signals(stop):
                consumer.run(stop)
    finally:
        stop.set()
        if watch is not None:
            watch.join(timeout=5)
        server.shutdown()
        server.server_close()


def _records_watch(
    settings: Settings, poster: WebhookPoster, metrics: NotifierMetrics, stop: threading.Event
) -> threading.Thread | None:
    """The periodic drift and anomaly check (DUA_NOTIFIER_RECORDS_INTERVAL_S; 0: none)."""
    if settings.notifier_records_interval_s <= 0:
        return None
    watch = RecordsWatch(
        findings_source(settings), poster, metrics, settings.notifier_records_interval_s
    )
    thread = threading.Thread(
        target=watch.run, args=(stop,), name="notifier-records-watch", daemon=True
    )
    thread.start()
    return thread


@click.command()
@click.option(
    "--min-severity",
    type=click.Choice(["low", "medium", "high", "critical"]),
    default=None,
    help="Post violations of at least this severity (default: DUA_NOTIFIER_MIN_SEVERITY).",
)
def notifier(min_severity: str | None) -> None:
    """Post active violations to the webhook in DUA_NOTIFIER_WEBHOOK_URL, grouped by rule and
    service, rate-limited, retried; shadow-mode violations are never posted.
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    overrides = {} if min_severity is None else {"notifier_min_severity": min_severity}
    run_notifier(load_settings(**overrides))
