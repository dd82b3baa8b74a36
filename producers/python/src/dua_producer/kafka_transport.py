"""`KafkaTransport`: delivery with confluent-kafka, tuned for an idempotent, batched stream.

Every message is produced with the key the client chose (subject pseudonym, else event id).
A delivery error (message timeout included) reaches the listener with the message's bytes,
so the client can spool them; `close` purges what could not be delivered in time and reports
it the same way, so nothing is lost by shutting down while Kafka is away.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from dua_producer.config import ProducerConfig
from dua_producer.transport import DeliveryListener, Receipt, TransportFull
from dua_schemas import ConfigError

log = logging.getLogger("dua_producer.kafka")

_OUTAGE_NOISE = frozenset(
    {KafkaError._TRANSPORT, KafkaError._RESOLVE, KafkaError._TIMED_OUT, KafkaError._MSG_TIMED_OUT}
)


def producer_settings(config: ProducerConfig) -> dict[str, Any]:
    """librdkafka settings for the audit stream (extra `kafka_options` win)."""
    if not config.bootstrap_servers:
        raise ConfigError(
            "bootstrap_servers is not set: set DUA_KAFKA_BOOTSTRAP to the Kafka cluster's "
            "bootstrap servers (host:port,...)"
        )
    return {
        "bootstrap.servers": config.bootstrap_servers,
        "client.id": f"dua-producer.{config.service}",
        "enable.idempotence": True,  # retries never duplicate nor reorder within a partition
        "acks": "all",
        "compression.type": config.compression,
        "linger.ms": config.linger_ms,
        "batch.size": config.batch_bytes,
        "message.timeout.ms": max(1, int(config.delivery_timeout_s * 1000)),
        "queue.buffering.max.messages": config.queue_max_messages,
        # The Java client's partitioner: a subject lands on the same partition whichever
        # client (this SDK, a JVM service, aiokafka) produced its events.
        "partitioner": "murmur2_random",
        # librdkafka logs every failed connection attempt (as an error); during an outage that
        # is a line per retry. Errors reach error_cb anyway, and the client logs an outage once.
        "logger": log,
        "log_level": 2,
        **config.kafka_options,
    }


class KafkaTransport:
    """A confluent-kafka producer behind the `Transport` protocol."""

    def __init__(self, config: ProducerConfig) -> None:
        self._settings = producer_settings(config)
        self._listener: DeliveryListener | None = None
        self._producer: Producer | None = None
        self._fatal: str | None = None
        self._rebuild = threading.Lock()

    def start(self, listener: DeliveryListener) -> None:
        self._listener = listener
        self._producer = self._build()

    def _build(self) -> Producer:
        settings = dict(self._settings)
        settings["error_cb"] = self._on_error
        settings["on_delivery"] = self._on_delivery
        try:
            return Producer(settings)
        except KafkaException as exc:
            raise ConfigError(f"invalid Kafka producer settings: {exc}") from exc

    def _running(self) -> Producer:
        if self._producer is None:
            raise RuntimeError("KafkaTransport.start() was not called")
        return self._producer

    def send(self, topic: str, key: bytes, value: bytes, receipt: Receipt | None = None) -> None:
        producer = self._running()
        try:
            if receipt is None:
                producer.produce(topic, value, key)
            else:
                producer.produce(topic, value, key, on_delivery=_receipt_callback(receipt))
        except BufferError:
            raise TransportFull("the Kafka producer queue is full") from None

    def poll(self, timeout: float) -> None:
        self._running().poll(timeout)
        if self._fatal is not None:
            self._replace_after_fatal()

    def flush(self, timeout: float) -> int:
        return int(self._running().flush(timeout))

    def probe(self, timeout: float) -> bool:
        try:
            self._running().list_topics(timeout=timeout)
        except KafkaException:
            return False
        return True

    def close(self, timeout: float) -> None:
        producer = self._running()
        if producer.flush(timeout) > 0:
            # Whatever is left would die with the process: report it failed, to be spooled.
            producer.purge(in_queue=True, in_flight=True)
            producer.flush(0)

    # -- callbacks (run inside poll/flush) --------------------------------------------------
    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        listener = self._listener
        if listener is None:
            return
        if err is None:
            listener.delivered(msg.latency() or 0.0)
        else:
            listener.failed(msg.topic() or "", msg.key() or b"", msg.value() or b"", err.str())

    def _on_error(self, err: KafkaError) -> None:
        if err.fatal():
            # The idempotent producer cannot go on (e.g. fenced or out-of-order sequence):
            # poll() replaces it once its messages were handed back.
            self._fatal = err.str()
            log.error("Kafka producer failed fatally, replacing it: %s", err.str())
        if err.code() == KafkaError._ALL_BROKERS_DOWN or err.fatal():
            if self._listener is not None:
                self._listener.unavailable(err.str())
        elif err.code() in _OUTAGE_NOISE:
            log.debug("Kafka: %s", err.str())  # one per retry while Kafka is away
        else:
            log.warning("Kafka: %s", err.str())

    def _replace_after_fatal(self) -> None:
        with self._rebuild:
            if self._fatal is None:
                return
            old = self._running()
            old.purge(in_queue=True, in_flight=True)
            old.flush(0)  # hands every message back as failed, hence spooled
            self._producer = self._build()
            self._fatal = None


def _receipt_callback(receipt: Receipt) -> Any:
    def on_delivery(err: KafkaError | None, _msg: Message) -> None:
        receipt(None if err is None else err.str())

    return on_delivery
