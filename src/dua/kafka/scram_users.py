"""Stores SCRAM credentials of a secured broker's users, logged in as its admin."""

from __future__ import annotations

from confluent_kafka import KafkaException

# The documented import path; confluent_kafka.admin re-exports these without an `__all__`.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from dua.kafka.credentials import Credentials
from dua.kafka.errors import BrokerError

USERS_TIMEOUT_S = 30.0
# PBKDF2 rounds of the users' SCRAM credentials (Kafka's minimum for SCRAM-SHA-512 is 4096).
SCRAM_ITERATIONS = 8192


def store_scram_users(
    bootstrap: str, admin: dict[str, str], credentials: Credentials, users: tuple[str, ...]
) -> None:
    """Give each user its stored SCRAM password (created, or replaced: idempotent)."""
    if not users:
        return
    client = AdminClient({**admin, "bootstrap.servers": bootstrap})
    mechanism = ScramMechanism[credentials.mechanism.replace("-", "_")]
    info = ScramCredentialInfo(mechanism, SCRAM_ITERATIONS)
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(user, info, credentials.password(user).encode())
        for user in users
    ]
    futures = client.alter_user_scram_credentials(upserts, request_timeout=USERS_TIMEOUT_S)
    for user, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            raise BrokerError(
                f"could not store the SCRAM credentials of user {user}: {exc.args[0].str()}"
            ) from None
