"""Settings come from DUA_* variables or a TOML file, and every bad value is named."""

from __future__ import annotations

import ast
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from dua.settings import Settings, load_settings
from dua_schemas import ConfigError, Topics
from dua_sink.sink_config import SinkConfig

pytestmark = pytest.mark.usefixtures("clean_settings_env")


def test_defaults() -> None:
    """Without configuration the topics carry dua. names and ClickHouse is chDB under .dua."""
    settings = load_settings()
    assert asdict(settings.topics) == {
        "raw": "dua.access.raw",
        "consent": "dua.consent",
        "tagged": "dua.access.tagged",
        "violations": "dua.violations",
        "dlq": "dua.access.dlq",
    }
    assert settings.kafka_bootstrap is None
    assert settings.effective_clickhouse_dsn == f"chdb://{(Path('.dua') / 'clickhouse').resolve()}"


def test_the_topic_settings_take_their_defaults_from_the_pipeline_topics(
    written_defaults: dict[str, ast.expr],
) -> None:
    """Each topic has a DUA_TOPIC_<ROLE> setting whose default is read from `Topics`, the one
    definition the SDK, the processor and the sink share, not restated."""
    pipeline = Topics()
    for field in fields(Topics):
        setting = f"topic_{field.name}"
        written = written_defaults[setting]
        assert isinstance(written, ast.Attribute), (
            f"{setting} restates its default ({ast.unparse(written)}): take Topics'"
        )
        assert written.attr == field.name, f"{setting} defaults to {ast.unparse(written)}"
        assert Settings.model_fields[setting].default == getattr(pipeline, field.name), setting


SINK_DEFAULTS = ("flush_interval_s", "batch_max_rows", "max_buffered_rows", "query_port")


def test_the_sink_settings_take_their_defaults_from_the_sink(
    written_defaults: dict[str, ast.expr],
) -> None:
    """DUA_SINK_* batching and port defaults are read from `SinkConfig`, not restated."""
    owned = {field.name: field.default for field in fields(SinkConfig)}
    for name in SINK_DEFAULTS:
        setting = f"sink_{name}"
        written = written_defaults[setting]
        assert isinstance(written, ast.Subscript), (
            f"{setting} restates its default ({ast.unparse(written)}): take SinkConfig's"
        )
        assert ast.unparse(written.slice) == repr(name), f"{setting} reads {ast.unparse(written)}"
        assert Settings.model_fields[setting].default == owned[name], setting


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    """DUA_* variables set the matching fields, and secrets stay hidden in repr."""
    monkeypatch.setenv("DUA_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    monkeypatch.setenv("DUA_TOPIC_PARTITIONS", "8")
    monkeypatch.setenv("DUA_SUBJECT_KEY", "s3cret")
    monkeypatch.setenv("DUA_CLICKHOUSE_DSN", "http://ch:8123")
    settings = load_settings()
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    assert settings.topic_partitions == 8
    assert settings.subject_key is not None
    assert settings.subject_key.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert settings.effective_clickhouse_dsn == "http://ch:8123"


def test_every_invalid_value_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two bad variables give one line each, named by their variable."""
    monkeypatch.setenv("DUA_TOPIC_PARTITIONS", "many")
    monkeypatch.setenv("DUA_KAFKA_PORT", "70000")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "DUA_TOPIC_PARTITIONS" in message
    assert "DUA_KAFKA_PORT" in message


def test_missing_policy_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """A DUA_POLICY that points nowhere is an error naming the path."""
    monkeypatch.setenv("DUA_POLICY", "nowhere.yaml")
    with pytest.raises(ConfigError, match=r"DUA_POLICY: .*nowhere\.yaml"):
        load_settings()


def test_toml_file_below_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """dua.toml supplies values; the environment wins over it."""
    (tmp_path / "dua.toml").write_text('topic_raw = "file.raw"\ntopic_dlq = "file.dlq"\n')
    monkeypatch.setenv("DUA_TOPIC_DLQ", "env.dlq")
    settings = load_settings()
    assert settings.topic_raw == "file.raw"
    assert settings.topic_dlq == "env.dlq"


def test_named_config_file_must_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    """DUA_CONFIG naming a missing file is an error, not silently ignored."""
    monkeypatch.setenv("DUA_CONFIG", "missing.toml")
    with pytest.raises(ConfigError, match="DUA_CONFIG"):
        load_settings()


def test_unknown_key_in_file_is_rejected(tmp_path: Path) -> None:
    """A misspelt key in dua.toml is reported rather than ignored."""
    (tmp_path / "dua.toml").write_text('topic_rwa = "x"\n')
    with pytest.raises(ConfigError, match="topic_rwa"):
        load_settings()


def test_anomaly_history_must_fit_in_the_baseline(monkeypatch: pytest.MonkeyPatch) -> None:
    """More days of history required than the baseline holds would judge no series: refused."""
    monkeypatch.setenv("DUA_ANOMALY_BASELINE_DAYS", "7")
    monkeypatch.setenv("DUA_ANOMALY_MIN_BASELINE_DAYS", "8")
    with pytest.raises(ConfigError, match="DUA_ANOMALY_MIN_BASELINE_DAYS \\(8\\) must not exceed"):
        load_settings()
    monkeypatch.setenv("DUA_ANOMALY_MIN_BASELINE_DAYS", "7")
    assert load_settings().anomaly_min_baseline_days == 7
