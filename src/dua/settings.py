"""The one settings object of the `dua` application, read from `DUA_*` variables.

Built once where a process starts (the CLI) and passed down; nothing deeper reads the
environment. An optional TOML file (`DUA_CONFIG`, else `./dua.toml` when present) supplies
values the environment does not set.
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from dua_schemas import ConfigError, Topics
from dua_sink.sink_config import SinkConfig
from dua_stream.processor.config import ProducerCompression, Tuning

DEFAULT_STATE_DIR = Path(".dua")

# Defaults a component owns are read from it, not repeated: the pipeline's topic names and the
# processor's tuning. (Importing the processor's config loads no Faust; `run_processor` does.)
_TOPICS: Final = Topics()
_TUNING: Final = Tuning()
# The sink's batching and port defaults are its own (`SinkConfig`); read, never restated.
_SINK: Final[dict[str, Any]] = {field.name: field.default for field in fields(SinkConfig)}


class Settings(BaseSettings):
    """Every knob of the application; each field is `DUA_<FIELD>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="DUA_", extra="forbid", frozen=True)

    state_dir: Path = Field(
        DEFAULT_STATE_DIR, description="Local state: broker data, chDB data, pid files."
    )
    kafka_bootstrap: str | None = Field(
        None,
        description="Kafka bootstrap servers. Unset: the local broker started by `dua kafka up`.",
    )
    kafka_version: str = Field("4.4.0", description="Apache Kafka version the local broker runs.")
    kafka_port: int = Field(0, ge=0, le=65535, description="Local broker port (0: a free one).")
    kafka_controller_port: int = Field(
        0, ge=0, le=65535, description="Local KRaft controller port (0: a free one)."
    )
    kafka_heap: str = Field("512m", description="JVM heap of the local broker (-Xmx).")
    kafka_group_join_delay_ms: int = Field(
        0,
        ge=0,
        le=300_000,
        description="Local broker: how long a new consumer group waits for more members "
        "before its first rebalance (Kafka's default is 3000; 0 starts tests fast).",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] | None = Field(
        None,
        description="How clients reach Kafka. Unset: the local broker's (SASL with --secure), "
        "else PLAINTEXT.",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        "SCRAM-SHA-512", description="SASL mechanism of the Kafka clients."
    )
    kafka_sasl_username: str | None = Field(
        None, description="SASL user. Unset: the component's own (producer, processor, …)."
    )
    kafka_sasl_password: SecretStr | None = Field(
        None, description="SASL password. Unset: the local broker's stored one for the user."
    )
    kafka_ssl_ca_location: Path | None = Field(
        None, description="CA bundle that signed the brokers' certificates (SASL_SSL)."
    )
    topic_partitions: int = Field(4, ge=1, le=1024, description="Partitions of created topics.")
    topic_retention_hours: int = Field(168, ge=1, description="Retention of created topics.")
    topic_raw: str = Field(_TOPICS.raw, description="Raw access events from the SDK.")
    topic_consent: str = Field(_TOPICS.consent, description="ConsentChange records.")
    topic_tagged: str = Field(_TOPICS.tagged, description="Tagged access events.")
    topic_violations: str = Field(_TOPICS.violations, description="One record per violation.")
    topic_dlq: str = Field(_TOPICS.dlq, description="Rejected inputs with their reason.")
    clickhouse_dsn: str | None = Field(
        None,
        description="clickhouse-connect DSN. Unset: embedded chDB under <state_dir>/clickhouse.",
    )
    clickhouse_database: str = Field(
        "dua",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        description="ClickHouse database holding the audit tables.",
    )
    clickhouse_cluster: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        description="ClickHouse cluster (remote_servers) `dua db migrate` creates the schema on: "
        "replicated tables, ON CLUSTER, Distributed tables. Unset: one server.",
    )
    # At most 50 years: the TTL is a DateTime, which ends in 2106.
    retention_days: int = Field(
        365, ge=1, le=18250, description="Days audit rows are kept (ClickHouse TTL)."
    )
    processor_app_id: str = Field(
        "dua-processor",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Faust app id of the processor: its consumer group and the prefix of its "
        "own topics and transactional ids.",
    )
    processor_metrics_port: int = Field(
        9470,
        ge=0,
        le=65535,
        description="Prometheus metrics port of the processor (0: none); with several "
        "workers, worker i serves on this port + i.",
    )
    processor_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Processor worker processes `dua run processor` starts in one consumer "
        "group (one core each); `--workers` overrides it.",
    )
    # The processor's tuning: one setting per field of `Tuning` (dua_stream/processor/
    # config.py), which owns the defaults. Why each value is what it is:
    # stream_processors/README.md, "Tuning".
    processor_max_in_flight_batches: int = Field(
        _TUNING.max_in_flight_batches,
        ge=1,
        le=64,
        description="Processor batches awaiting the broker before fetching stops.",
    )
    processor_broker_max_poll_records: int = Field(
        _TUNING.broker_max_poll_records,
        ge=1,
        le=100_000,
        description="Records per processor fetch (one fetch, one batch).",
    )
    processor_consumer_max_fetch_size: int = Field(
        _TUNING.consumer_max_fetch_size,
        ge=1024,
        description="Bytes the processor fetches ahead per partition.",
    )
    processor_stream_buffer_maxsize: int = Field(
        _TUNING.stream_buffer_maxsize,
        ge=1,
        description="Faust's per-stream buffer (changelog recovery only).",
    )
    processor_commit_interval_s: float = Field(
        _TUNING.commit_interval_s,
        gt=0,
        le=600,
        description="Seconds between the processor's offset commits.",
    )
    processor_commit_every: int = Field(
        _TUNING.commit_every,
        ge=1,
        description="Acknowledged messages that also trigger an offset commit.",
    )
    processor_session_timeout_s: float = Field(
        _TUNING.session_timeout_s,
        ge=6,
        le=1800,
        description="Seconds without heartbeats before a processor's partitions move on "
        "(within the broker's group.min/max.session.timeout.ms: 6 s and 30 min by default).",
    )
    processor_heartbeat_interval_s: float = Field(
        _TUNING.heartbeat_interval_s,
        gt=0,
        description="Seconds between heartbeats (below the session timeout).",
    )
    processor_max_poll_interval_s: float = Field(
        _TUNING.max_poll_interval_s,
        gt=0,
        description="Seconds a processor may go without fetching before it is out.",
    )
    processor_producer_linger_ms: int = Field(
        _TUNING.producer_linger_ms,
        ge=0,
        le=900_000,
        description="Milliseconds outputs wait to fill a producer batch.",
    )
    processor_producer_queue_max_messages: int = Field(
        _TUNING.producer_queue_max_messages,
        ge=1,
        le=2_147_483_647,
        description="Outputs the producer queues at most.",
    )
    processor_producer_compression: ProducerCompression = Field(
        _TUNING.producer_compression,
        description="Compression of the processor's outputs and changelogs.",
    )
    processor_policy_poll_s: float = Field(
        _TUNING.policy_poll_s,
        gt=0,
        le=3600,
        description="Seconds between checks of the policy file.",
    )
    processor_expiry_grace_s: float = Field(
        _TUNING.expiry_grace_s,
        ge=0,
        description="Re-identification entries outlive their window by this.",
    )
    processor_expiry_every_s: float = Field(
        _TUNING.expiry_every_s,
        gt=0,
        le=3600,
        description="Seconds between expiries of re-identification state.",
    )
    processor_dlq_prefix_bytes: int = Field(
        _TUNING.dlq_prefix_bytes,
        ge=0,
        le=512 * 1024,
        description="Bytes of a rejected payload kept in its DLQ record (Kafka's default "
        "message limit is 1 MB).",
    )
    processor_gc_young_threshold: int = Field(
        _TUNING.gc_young_threshold,
        ge=0,
        description="Allocations between young garbage collections (0: CPython's own settings).",
    )
    processor_consent_grace_ms: int = Field(
        _TUNING.consent_grace_ms,
        ge=0,
        le=600_000,
        description="Milliseconds a raw record waits for consent changes produced before it; "
        "a violation a consent change finds later is marked as detected late.",
    )
    processor_consent_retention_days: float = Field(
        _TUNING.consent_retention_days,
        gt=0,
        le=3650,
        description="Days of consent history, and of accesses kept for a consent re-check.",
    )
    sink_group: str = Field("dua-sink", description="Kafka consumer group of `dua run sink`.")
    sink_flush_interval_s: float = Field(
        _SINK["flush_interval_s"],
        gt=0,
        le=60,
        description="Seconds a sink batch waits before it is written.",
    )
    sink_batch_max_rows: int = Field(
        _SINK["batch_max_rows"],
        ge=1,
        description="A partition batch this large is written at once.",
    )
    sink_max_buffered_rows: int = Field(
        _SINK["max_buffered_rows"],
        ge=1,
        description="Rows the sink holds before it pauses its partitions.",
    )
    sink_query_port: int = Field(
        _SINK["query_port"],
        ge=0,
        le=65535,
        description="Read-only query port of the sink (0: a free one).",
    )
    sink_metrics_port: int = Field(
        9471, ge=0, le=65535, description="Prometheus metrics port of the sink (0: a free one)."
    )
    schema_registry_url: str | None = Field(
        None, description="Confluent schema registry. Unset: Avro single-object encoding."
    )
    policy: Path | None = Field(None, description="Policy YAML. Unset: the shipped default.")
    subject_key: SecretStr | None = Field(
        None, description="HMAC key that pseudonymizes subject ids (required by the SDK)."
    )
    notifier_webhook_url: SecretStr | None = Field(
        None, description="Slack-compatible webhook `dua run notifier` posts violations to."
    )
    notifier_min_severity: str = Field(
        "high",
        pattern=r"^(low|medium|high|critical)$",
        description="Violations below this severity are not posted.",
    )
    notifier_immediate_severity: str = Field(
        "critical",
        pattern=r"^(low|medium|high|critical|none)$",
        description="The first violation of a rule and service at or above this severity in a "
        "group window is posted at once, not at the window's end (none: every post waits).",
    )
    notifier_group: str = Field(
        "dua-notifier", description="Kafka consumer group of `dua run notifier`."
    )
    notifier_group_window_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="Violations of one rule and service within this many seconds become one post.",
    )
    notifier_max_messages_per_minute: int = Field(
        6, ge=1, le=600, description="Messages the notifier posts per minute at most."
    )
    notifier_timeout_s: float = Field(
        10.0, gt=0, le=120, description="Seconds one webhook request may take."
    )
    notifier_max_attempts: int = Field(
        5, ge=1, le=20, description="Webhook attempts per message on 5xx, 429 and timeouts."
    )
    notifier_metrics_port: int = Field(
        9473, ge=0, le=65535, description="Prometheus metrics port of the notifier (0: a free one)."
    )
    notifier_records_interval_s: float = Field(
        300.0,
        ge=0,
        le=86_400,
        description="How often the notifier checks the data map's drift and volume anomalies "
        "in ClickHouse (metrics and a message for what is new); 0: never.",
    )
    datamap_unseen_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="Data map drift: a declared purpose x element pair not used for this many "
        "days is reported as unseen.",
    )
    datamap_new_days: int = Field(
        7,
        ge=1,
        le=3650,
        description="Data map drift: a combination first seen in this many days is new.",
    )
    anomaly_baseline_days: int = Field(
        14, ge=2, le=365, description="Volume anomalies: days of the same hour in the baseline."
    )
    anomaly_min_baseline_days: int = Field(
        3,
        ge=1,
        le=365,
        description="Volume anomalies: days of history a series needs before it is judged.",
    )
    anomaly_threshold: float = Field(
        6.0, gt=0, description="Volume anomalies: robust score above which an hour is flagged."
    )
    anomaly_min_accesses: int = Field(
        20, ge=1, description="Volume anomalies: hours with fewer accesses are never flagged."
    )
    console_host: str = Field(
        "127.0.0.1", description="Address `dua console` listens on (0.0.0.0 in containers)."
    )
    console_port: int = Field(
        8470, ge=1, le=65535, description="Port of the compliance console (`dua console`)."
    )
    console_database_url: SecretStr | None = Field(
        None,
        description="SQLAlchemy URL of the console's database (triage, users, its audit log), "
        "e.g. postgresql+psycopg://user:pw@host/db. Unset: SQLite in <state_dir>/console.db.",
    )
    console_secure_cookies: bool = Field(
        False, description="Console session cookies only over HTTPS (set it behind TLS)."
    )
    console_trusted_user_header: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9-]{1,64}$",
        description="Header of an authenticating reverse proxy the console trusts as the "
        "user's name (single sign-on). Unset: off; only set it when the proxy strips the "
        "header from clients.",
    )
    console_session_hours: float = Field(
        8.0, gt=0, le=720, description="Hours a console session lasts."
    )
    metrics_host: str = Field(
        "127.0.0.1",
        description="Address the /metrics endpoints listen on; 0.0.0.0 in containers, so "
        "Prometheus can reach them.",
    )

    @field_validator(
        "kafka_bootstrap",
        "schema_registry_url",
        "clickhouse_dsn",
        "clickhouse_cluster",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator(
        "notifier_webhook_url",
        "console_database_url",
        "console_trusted_user_header",
        mode="before",
    )
    @classmethod
    def _empty_webhook_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator(
        "kafka_security_protocol",
        "kafka_sasl_username",
        "kafka_sasl_password",
        "kafka_ssl_ca_location",
        mode="before",
    )
    @classmethod
    def _empty_security_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("policy")
    @classmethod
    def _policy_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"policy file {value} does not exist")
        return value

    @model_validator(mode="after")
    def _heartbeats_within_session(self) -> Settings:
        if self.processor_heartbeat_interval_s >= self.processor_session_timeout_s:
            raise ValueError(
                f"DUA_PROCESSOR_HEARTBEAT_INTERVAL_S ({self.processor_heartbeat_interval_s}) "
                "must be below DUA_PROCESSOR_SESSION_TIMEOUT_S "
                f"({self.processor_session_timeout_s}): Kafka counts a worker without "
                "heartbeats for a whole session as gone"
            )
        return self

    @model_validator(mode="after")
    def _history_within_baseline(self) -> Settings:
        if self.anomaly_min_baseline_days > self.anomaly_baseline_days:
            raise ValueError(
                f"DUA_ANOMALY_MIN_BASELINE_DAYS ({self.anomaly_min_baseline_days}) must not "
                f"exceed DUA_ANOMALY_BASELINE_DAYS ({self.anomaly_baseline_days}): no series "
                "could ever be judged"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003 - no .env files: env only
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("DUA_CONFIG") or (
            "dua.toml" if Path("dua.toml").is_file() else None
        )
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @property
    def chdb_path(self) -> Path:
        """Where the embedded ClickHouse keeps its data."""
        return (self.state_dir / "clickhouse").resolve()

    @property
    def effective_console_database_url(self) -> str:
        """The console's database: the configured URL, else SQLite in the state directory."""
        if self.console_database_url is not None:
            return self.console_database_url.get_secret_value()
        return f"sqlite:///{(self.state_dir / 'console.db').resolve()}"

    @property
    def effective_clickhouse_dsn(self) -> str:
        return self.clickhouse_dsn or f"chdb://{self.chdb_path}"

    @property
    def topics(self) -> Topics:
        """The pipeline's topics, as the processor, the sink and the SDK take them."""
        return Topics(
            raw=self.topic_raw,
            consent=self.topic_consent,
            tagged=self.topic_tagged,
            violations=self.topic_violations,
            dlq=self.topic_dlq,
        )


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; every invalid value is reported, one line each, in a `ConfigError`."""
    if os.environ.get("DUA_CONFIG") and not Path(os.environ["DUA_CONFIG"]).is_file():
        raise ConfigError(f"DUA_CONFIG: file {os.environ['DUA_CONFIG']} does not exist")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            key = "_".join(str(part) for part in error["loc"])
            if not key:  # a check across settings: its message names the variables
                lines.append(error["msg"])
            elif error["type"] == "extra_forbidden":
                lines.append(f"{key}: not a setting (check the spelling in the config file)")
            else:
                lines.append(f"DUA_{key.upper()}: {error['msg']}")
        raise ConfigError("invalid settings:\n  " + "\n  ".join(lines)) from None
