"""`ProducerConfig`: every knob of the SDK, as one frozen value built where the service starts.

Services embed the SDK, so it reads the environment in one place only, `from_env()`, called
once where the client is built; everything below takes the config object. A field that
`from_env` reads names its `DUA_*` variable in its declaration, beside its default; the
reading and its error messages follow from there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, get_args

from dua_producer.vocabulary import ActorKind, Compression, FsyncPolicy
from dua_schemas import ACTOR_KINDS, ConfigError, Topics

MIB: Final = 1024 * 1024
DEFAULT_SPOOL_DIR: Final = Path(".dua") / "spool"

_TOPICS: Final = Topics()
_VARIABLE: Final = "dua_variable"  # field metadata: the `DUA_*` variable `from_env` reads


def _env(variable: str) -> Mapping[str, str]:
    """Field metadata: `from_env` reads the field from `variable` (the application's name)."""
    return {_VARIABLE: variable}


@dataclass(frozen=True, slots=True)
class ProducerConfig:
    """What a service's audit client needs; only `subject_key` and `service` have no default."""

    # The HMAC key of subject pseudonyms; a secret.
    subject_key: str = field(repr=False, metadata=_env("DUA_SUBJECT_KEY"))
    service: str = field(metadata=_env("DUA_SERVICE"))  # the emitting service, e.g. "jalan"
    # Required by the Kafka transport only.
    bootstrap_servers: str | None = field(default=None, metadata=_env("DUA_KAFKA_BOOTSTRAP"))
    # None: Avro single-object encoding.
    schema_registry_url: str | None = field(default=None, metadata=_env("DUA_SCHEMA_REGISTRY_URL"))
    topic_raw: str = field(default=_TOPICS.raw, metadata=_env("DUA_TOPIC_RAW"))
    topic_consent: str = field(default=_TOPICS.consent, metadata=_env("DUA_TOPIC_CONSENT"))
    actor_kind: ActorKind = field(default="SERVICE", metadata=_env("DUA_ACTOR_KIND"))
    actor_id: str | None = field(default=None, metadata=_env("DUA_ACTOR_ID"))  # None: the service
    spool_dir: Path = field(default=DEFAULT_SPOOL_DIR, metadata=_env("DUA_SPOOL_DIR"))
    # Past this, events are dropped (counted, logged).
    spool_max_bytes: int = field(default=256 * MIB, metadata=_env("DUA_SPOOL_MAX_BYTES"))
    spool_segment_bytes: int = 16 * MIB
    spool_fsync: FsyncPolicy = field(default="interval", metadata=_env("DUA_SPOOL_FSYNC"))
    spool_fsync_interval_s: float = field(default=1.0, metadata=_env("DUA_SPOOL_FSYNC_INTERVAL_S"))
    # The longest emit() waits for room in the producer queue.
    emit_max_block_s: float = field(default=0.005, metadata=_env("DUA_EMIT_MAX_BLOCK_S"))
    # librdkafka's message.timeout.ms; then the spool takes the event.
    delivery_timeout_s: float = field(default=30.0, metadata=_env("DUA_DELIVERY_TIMEOUT_S"))
    max_event_bytes: int = field(default=16 * 1024, metadata=_env("DUA_MAX_EVENT_BYTES"))
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
        """Read the `DUA_*` variable of each field that names one (`ENVIRONMENT`); keyword
        arguments win over them."""
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for variable, name in ENVIRONMENT.items():
            raw = source.get(variable)
            if raw is None or raw == "":
                continue
            values[name] = _convert(variable, name, raw)
        values.update(overrides)
        for name in _REQUIRED:
            if name not in values:
                raise ConfigError(f"{_VARIABLES[name]} is not set; the audit SDK needs it")
        return cls(**values)


# Field -> the variable it is read from, and the other way round (`DUA_*` -> field).
_VARIABLES: Final = {f.name: f.metadata[_VARIABLE] for f in fields(ProducerConfig) if f.metadata}
ENVIRONMENT: Final[Mapping[str, str]] = MappingProxyType(
    {variable: name for name, variable in _VARIABLES.items()}
)
_REQUIRED: Final = tuple(
    f.name for f in fields(ProducerConfig) if f.default is MISSING and f.default_factory is MISSING
)
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
