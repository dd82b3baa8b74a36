"""ProducerConfig: what it reads from the environment, its defaults, and its refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from dua_producer import ProducerConfig
from dua_schemas import ConfigError


def test_from_env_reads_the_documented_variables() -> None:
    """Every DUA_* variable of the SDK lands in its field, converted to the field's type."""
    config = ProducerConfig.from_env(
        {
            "DUA_SUBJECT_KEY": "s3cret-key",
            "DUA_SERVICE": "jalan",
            "DUA_KAFKA_BOOTSTRAP": "kafka-1:9092,kafka-2:9092",
            "DUA_TOPIC_RAW": "audit.raw",
            "DUA_TOPIC_CONSENT": "audit.consent",
            "DUA_SPOOL_DIR": "/var/lib/jalan/dua-spool",
            "DUA_SPOOL_MAX_BYTES": "1_000_000",
            "DUA_SPOOL_FSYNC": "always",
            "DUA_DELIVERY_TIMEOUT_S": "12.5",
            "DUA_ACTOR_ID": "jalan-api",
        }
    )
    assert config.subject_key == "s3cret-key"
    assert config.bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert (config.topic_raw, config.topic_consent) == ("audit.raw", "audit.consent")
    assert config.spool_dir == Path("/var/lib/jalan/dua-spool")
    assert config.spool_max_bytes == 1_000_000
    assert config.spool_fsync == "always"
    assert config.delivery_timeout_s == 12.5
    assert config.actor == "jalan-api"


def test_defaults_match_the_pipeline_topics() -> None:
    """Unset topics are the pipeline's defaults; the actor defaults to the service."""
    config = ProducerConfig.from_env({"DUA_SUBJECT_KEY": "k", "DUA_SERVICE": "carsensor"})
    assert (config.topic_raw, config.topic_consent) == ("dua.access.raw", "dua.consent")
    assert config.actor_kind == "SERVICE"
    assert config.actor == "carsensor"


def test_missing_subject_key_is_a_clear_config_error() -> None:
    """Without DUA_SUBJECT_KEY the SDK refuses to start and says which variable to set."""
    with pytest.raises(ConfigError, match="DUA_SUBJECT_KEY"):
        ProducerConfig.from_env({"DUA_SERVICE": "jalan"})
    with pytest.raises(ConfigError, match="DUA_SUBJECT_KEY"):
        ProducerConfig(subject_key="", service="jalan")


def test_keyword_overrides_win_over_the_environment() -> None:
    """Arguments to from_env replace what the environment says."""
    config = ProducerConfig.from_env(
        {"DUA_SUBJECT_KEY": "k", "DUA_SERVICE": "jalan"}, service="rikunabi", linger_ms=1
    )
    assert (config.service, config.linger_ms) == ("rikunabi", 1)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DUA_SPOOL_MAX_BYTES", "lots", "DUA_SPOOL_MAX_BYTES"),
        ("DUA_SPOOL_FSYNC", "sometimes", "spool_fsync"),
        ("DUA_ACTOR_KIND", "ROBOT", "actor_kind"),
        ("DUA_SPOOL_MAX_BYTES", "0", "spool_max_bytes"),
    ],
)
def test_bad_values_name_the_setting(variable: str, value: str, message: str) -> None:
    """A wrong value is a ConfigError naming the variable or field."""
    with pytest.raises(ConfigError, match=message):
        ProducerConfig.from_env({"DUA_SUBJECT_KEY": "k", "DUA_SERVICE": "jalan", variable: value})


def test_repr_hides_the_subject_key() -> None:
    """The HMAC key never shows up in a repr (logs, tracebacks)."""
    config = ProducerConfig(subject_key="very-secret-key", service="jalan")
    assert "very-secret-key" not in repr(config)
