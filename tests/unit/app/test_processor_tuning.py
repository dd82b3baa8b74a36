"""Processor tuning comes from `DUA_PROCESSOR_*` settings and reaches Faust and the producer."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import pytest

from dua.commands.processor_run import processor_config
from dua.settings import Settings, load_settings
from dua_schemas import ConfigError
from dua_stream.processor import Tuning
from dua_stream.processor.app import build_app
from dua_stream.processor.worker import producer_config


@pytest.fixture(autouse=True)
def _a_broker_and_state_dir(
    clean_settings_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DUA_KAFKA_BOOTSTRAP", "127.0.0.1:9")  # never contacted
    monkeypatch.setenv("DUA_STATE_DIR", str(tmp_path))


def test_every_tuning_value_is_a_setting_that_takes_its_default_from_tuning(
    written_defaults: dict[str, ast.expr],
) -> None:
    """Each Tuning value has a DUA_PROCESSOR_<FIELD> setting whose default is read from Tuning,
    not restated: a value added to Tuning without a setting, or a default written out in the
    settings, fails here."""
    tuning = Tuning()
    for field in fields(Tuning):
        setting = f"processor_{field.name}"
        assert setting in Settings.model_fields, f"Tuning.{field.name} has no DUA_{setting.upper()}"
        written = written_defaults[setting]
        assert isinstance(written, ast.Attribute), (
            f"{setting} restates its default ({ast.unparse(written)}): take Tuning's"
        )
        assert written.attr == field.name, f"{setting} defaults to {ast.unparse(written)}"
        assert Settings.model_fields[setting].default == getattr(tuning, field.name), setting


def test_without_settings_the_processor_runs_with_the_measured_defaults() -> None:
    assert processor_config(load_settings(), 4).tuning == Tuning()


def test_environment_values_reach_the_faust_app_and_the_producer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DUA_PROCESSOR_BROKER_MAX_POLL_RECORDS", "2000")
    monkeypatch.setenv("DUA_PROCESSOR_SESSION_TIMEOUT_S", "30")
    monkeypatch.setenv("DUA_PROCESSOR_HEARTBEAT_INTERVAL_S", "3")
    monkeypatch.setenv("DUA_PROCESSOR_COMMIT_INTERVAL_S", "0.5")
    monkeypatch.setenv("DUA_PROCESSOR_PRODUCER_COMPRESSION", "zstd")
    monkeypatch.setenv("DUA_PROCESSOR_PRODUCER_LINGER_MS", "5")
    monkeypatch.setenv("DUA_PROCESSOR_GC_YOUNG_THRESHOLD", "0")
    config = processor_config(load_settings(), 4)

    assert config.tuning.gc_young_threshold == 0
    app, _ = build_app(config)
    assert app.conf.broker_max_poll_records == 2000
    assert app.conf.broker_session_timeout == 30.0
    assert app.conf.broker_heartbeat_interval == 3.0
    assert app.conf.broker_commit_interval == 0.5
    producer = producer_config(config)
    assert producer["compression.type"] == "zstd"
    assert producer["linger.ms"] == 5


def test_a_value_out_of_range_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUA_PROCESSOR_PRODUCER_COMPRESSION", "brotli")
    monkeypatch.setenv("DUA_PROCESSOR_MAX_IN_FLIGHT_BATCHES", "0")
    monkeypatch.setenv("DUA_PROCESSOR_SESSION_TIMEOUT_S", "3")  # brokers refuse under 6 s
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "DUA_PROCESSOR_PRODUCER_COMPRESSION" in message
    assert "DUA_PROCESSOR_MAX_IN_FLIGHT_BATCHES" in message
    assert "DUA_PROCESSOR_SESSION_TIMEOUT_S: Input should be greater than or equal to 6" in message


def test_heartbeats_must_come_more_often_than_the_session_times_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DUA_PROCESSOR_SESSION_TIMEOUT_S", "6")
    monkeypatch.setenv("DUA_PROCESSOR_HEARTBEAT_INTERVAL_S", "6")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "DUA_PROCESSOR_HEARTBEAT_INTERVAL_S (6.0)" in message
    assert "DUA_PROCESSOR_SESSION_TIMEOUT_S (6.0)" in message
    assert "DUA_:" not in message  # a check across settings names its own variables


def test_the_config_file_takes_tuning_values_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config_file = tmp_path / "dua.toml"
    config_file.write_text("processor_max_in_flight_batches = 2\n", encoding="utf-8")
    monkeypatch.setenv("DUA_CONFIG", str(config_file))
    assert processor_config(load_settings(), 4).tuning.max_in_flight_batches == 2
