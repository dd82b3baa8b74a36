"""Messages straight to and from the scenario's topics (confluent-kafka, the real broker)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from confluent_kafka import Consumer, Producer

from dua_schemas import WireCodec
from dua_schemas.testing import access_record

CODEC = WireCodec()


def access_event(**fields: Any) -> dict[str, Any]:
    """A compliant DataAccessEvent record, with `fields` replaced."""
    return access_record(**fields)


def produce(bootstrap: str, topic: str, messages: Iterable[tuple[bytes, bytes]]) -> None:
    """Produce (key, value) pairs and wait until the broker has acknowledged every one."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    errors: list[Any] = []
    for key, value in messages:
        producer.produce(
            topic, value, key, on_delivery=lambda err, _m: errors.append(err) if err else None
        )
    assert producer.flush(30) == 0, "messages still queued after 30 s"
    assert not errors, errors


def read_all(bootstrap: str, topics: list[str], quiet_s: float = 3.0) -> list[Any]:
    """Every message of `topics` from the start, until none has arrived for `quiet_s`."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reliability-reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe(topics)
    found: list[Any] = []
    last = time.monotonic()
    deadline = last + 60.0
    try:
        while time.monotonic() - last < quiet_s and time.monotonic() < deadline:
            batch = [m for m in consumer.consume(1000, 0.5) if m.error() is None]
            if batch:
                found.extend(batch)
                last = time.monotonic()
    finally:
        consumer.close()
    return found
