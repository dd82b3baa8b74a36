"""How a component logs in to Kafka: its settings turned into confluent-kafka configuration.

Against a configured cluster (`DUA_KAFKA_BOOTSTRAP`) the `DUA_KAFKA_SECURITY_PROTOCOL`,
`DUA_KAFKA_SASL_*` settings say everything. Against the local broker they may stay unset: the
protocol is the running broker's, the user name is the component's own principal, and the
password is the one the broker stored for that principal in `<state_dir>/kafka`.
"""

from __future__ import annotations

from typing import Final

from dua.kafka.bootstrap import local_broker
from dua.kafka.credentials import read_credentials
from dua.settings import Settings
from dua_schemas import ConfigError

PLAINTEXT: Final = "PLAINTEXT"


def client_config(settings: Settings, *, principal: str | None = None) -> dict[str, str]:
    """librdkafka settings (`security.protocol`, `sasl.*`, `ssl.ca.location`) for one component.

    `principal` is the component's own user name (`producer`, `processor`, `sink`, `notifier`),
    used when `DUA_KAFKA_SASL_USERNAME` is unset. Merge the result into the component's own
    configuration; it holds the password in clear, so never log or print it.
    """
    broker = None if settings.kafka_bootstrap else local_broker(settings)
    record = broker.status() if broker is not None else None
    protocol = settings.kafka_security_protocol or (
        record.security_protocol if record is not None else PLAINTEXT
    )
    config = {"security.protocol": protocol}
    if settings.kafka_ssl_ca_location is not None:
        config["ssl.ca.location"] = str(settings.kafka_ssl_ca_location)
    if not protocol.startswith("SASL_"):
        return config
    username = settings.kafka_sasl_username or principal
    if not username:
        raise ConfigError(
            f"Kafka security protocol {protocol} needs a user: set DUA_KAFKA_SASL_USERNAME"
        )
    if settings.kafka_sasl_password is not None:
        password = settings.kafka_sasl_password.get_secret_value()
    else:
        stored = read_credentials(broker.credentials_path) if broker is not None else None
        if stored is None or username not in stored.users:
            where = "the local broker has none for it" if broker is not None else "no default"
            raise ConfigError(
                f"Kafka user {username!r} needs a password: set DUA_KAFKA_SASL_PASSWORD ({where})"
            )
        password = stored.password(username)
    config.update(
        {
            "sasl.mechanism": settings.kafka_sasl_mechanism,
            "sasl.username": username,
            "sasl.password": password,
        }
    )
    return config
