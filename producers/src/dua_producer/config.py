"""`ProducerConfig`: every knob of the SDK, as one frozen value built where the service starts.

Services embed the SDK, so it reads the environment in one place only, `from_env()`, called
once where the client is built; everything below takes the config object.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final, get_args

from dua_producer.vocabulary import ActorKind, Compression, FsyncPolicy
from dua_schemas import ACTOR_KINDS, ConfigError

MIB: Final = 1024 * 1024
DEFAULT_SPOOL_DIR: Final = Path(".dua") / "spool"

# Environment variable -> field. Only these are read; the names match the application's.
ENVIRONMENT: Final[Mapping[str, str]] = {
    "DUA_SUBJECT_KEY": "subject_key",
    "DUA_SERVICE": "service",
    "DUA_KAFKA_BOOTSTRAP": "bootstrap_servers",
    "DUA_SCHEMA_REGISTRY_URL": "schema_registry_url",
    "DUA_TOPIC_RAW": "topic_raw",
    "DUA_TOPIC_CONSENT": "topic_consent",
    "DUA_ACTOR_KIND": "actor_kind",
    "DUA_ACTOR_ID": "actor_id",
    "DUA_SPOOL_DIR": "spool_dir",
    "DUA_SPOOL_MAX_BYTES": "spool_max_bytes",
    "DUA_SPOOL_FSYNC": "spool_fsync",
    "DUA_SPOOL_FSYNC_INTERVAL_S": "spool_fsync_interval_s",
    "DUA_EMIT_MAX_BLOCK_S": "emit_max_block_s",
    "DUA_DELIVERY_TIMEOUT_S": "delivery_timeout_s",
    "DUA_MAX_EVENT_BYTES": "max_event_bytes",
}


@dataclass(frozen=True, slots=True)
class ProducerConfig:
    """What a service's audit client needs; only `subject_key` and `service` have no default."""

    subject_key: str = field(repr=False)  # HMAC key of subject pseudonyms; a secret
    service: str  # the emitting service's code, e.g. "jalan"
    bootstrap_servers: str | None = None  # required by the Kafka transport only
    schema_registry_url: str | None = None  # None: Avro single-object encoding
    topic_raw: str = "dua.access.raw"
    topic_consent: str = "dua.consent"
    actor_kind: ActorKind = "SERVICE"
    actor_id: str | None = None  # None: the service code
    spool_dir: Path = DEFAULT_SPOOL_DIR
    spool_max_bytes: int = 256 * MIB  # past this, events are dropped (counted, logged)
    spool_segment_bytes: int = 16 * MIB
    spool_fsync: FsyncPolicy = "interval"
    spool_fsync_interval_s: float = 1.0
    emit_max_block_s: float = 0.005  # longest emit() waits for room in the producer queue
    delivery_timeout_s: float = 30.0  # librdkafka message.timeout.ms; then the spool takes it
    max_event_bytes: int = 16 * 1024
    compression: Compression = "lz4"
    linger_ms: int = 20
    batch_bytes: int = 1_000_000
    queue_max_messages: int = 500_000
    replay_batch: int = 2_000
    replay_backoff_max_s: float = 30.0
    kafka_options: Mapping[str, str] = field(default_factory=dict)  # extra librdkafka settings

    def __post_init__(self) -> None:
        if not isinstance(self.spool_dir, Path):
            object.__setattr__(self, "spool_dir", Path(self.spool_dir))  # frozen: set once here
        if not isinstance(self.subject_key, str) or not self.subject_key:
            raise ConfigError(
                "subject_key is required: set DUA_SUBJECT_KEY to the secret HMAC key that "
                "pseudonymizes subject ids (the same key for every service of the company)"
            )
        if not isinstance(self.service, str) or not self.service.strip():
            raise ConfigError("service is required: set DUA_SERVICE to this service's code")
        if self.actor_kind not in ACTOR_KINDS:
            raise ConfigError(
                f"actor_kind {self.actor_kind!r} is not one of {', '.join(ACTOR_KINDS)}"
            )
        if self.spool_fsync not in get_args(FsyncPolicy):
            raise ConfigError(
                f"spool_fsync {self.spool_fsync!r} is not one of {', '.join(get_args(FsyncPolicy))}"
            )
        if self.compression not in get_args(Compression):
            raise ConfigError(f"compression {self.compression!r} is not lz4 or zstd")
        for name in (
            "spool_max_bytes",
            "spool_segment_bytes",
            "max_event_bytes",
            "queue_max_messages",
            "replay_batch",
            "batch_bytes",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive number")
        for name in ("spool_fsync_interval_s", "emit_max_block_s", "linger_ms"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")
        if self.delivery_timeout_s <= 0 or self.replay_backoff_max_s <= 0:
            raise ConfigError("delivery_timeout_s and replay_backoff_max_s must be positive")

    @property
    def actor(self) -> str:
        """The default actor id: the configured one, else the service code."""
        return self.actor_id or self.service

    def with_changes(self, **changes: Any) -> ProducerConfig:
        """A copy with some fields replaced (checked again)."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ProducerConfig:
        """Read the `DUA_*` variables of `ENVIRONMENT`; keyword arguments win over them."""
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for variable, name in ENVIRONMENT.items():
            raw = source.get(variable)
            if raw is None or raw == "":
                continue
            values[name] = _convert(variable, name, raw)
        values.update(overrides)
        for required, variable in (("subject_key", "DUA_SUBJECT_KEY"), ("service", "DUA_SERVICE")):
            if required not in values:
                raise ConfigError(f"{variable} is not set; the audit SDK needs it")
        return cls(**values)


_TYPES: Final = {f.name: f.type for f in fields(ProducerConfig)}


def _convert(variable: str, name: str, raw: str) -> Any:
    kind = str(_TYPES[name])
    try:
        if kind == "int":
            return int(raw.replace("_", ""))
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ConfigError(f"{variable}: {raw!r} is not a number") from None
    if kind == "Path":
        return Path(raw)
    return raw
