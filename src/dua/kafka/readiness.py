"""Whether a starting broker is ready: its port accepts, and it answers a metadata request."""

from __future__ import annotations

import socket
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from dua.kafka.errors import BrokerError


def accepts(host: str, port: int) -> bool:
    """Whether a TCP connection to `host:port` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def answers(bootstrap: str, client: dict[str, str]) -> bool:
    """Whether metadata from `bootstrap` lists brokers; a `BrokerError` if it refuses the login."""
    refused: list[KafkaError] = []

    def on_error(error: KafkaError) -> None:
        if error.code() == KafkaError._AUTHENTICATION:
            refused.append(error)

    config: dict[str, Any] = {**client, "bootstrap.servers": bootstrap, "error_cb": on_error}
    admin = AdminClient(config)
    try:
        metadata = admin.list_topics(timeout=2.0)
    except KafkaException:
        if refused:
            # Waiting longer would not help: the stored password is not the broker's.
            raise BrokerError(
                f"the broker at {bootstrap} refused the admin's login: {refused[0].str()}"
            ) from None
        return False
    return bool(metadata.brokers)
