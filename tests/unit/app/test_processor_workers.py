"""`dua run processor --workers N`: each worker's own state and metrics port, the pool's argv."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dua.cli import cli
from dua.commands.processor_run import processor_config, worker_specs
from dua.settings import Settings
from dua_stream.processor import logging_level


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(kafka_bootstrap="127.0.0.1:9", state_dir=tmp_path, **overrides)  # type: ignore[arg-type]


def test_a_single_worker_keeps_the_state_dir_and_port(tmp_path: Path) -> None:
    config = processor_config(_settings(tmp_path, processor_metrics_port=9470), 4)
    assert config.state_dir == tmp_path.resolve()
    assert config.metrics_port == 9470


def test_worker_i_has_its_own_state_dir_and_the_port_plus_i(tmp_path: Path) -> None:
    settings = _settings(tmp_path, processor_metrics_port=9470)
    configs = [processor_config(settings, 4, worker_index=i) for i in range(3)]
    assert [c.state_dir for c in configs] == [
        tmp_path.resolve() / f"processor-{i}" for i in range(3)
    ]
    assert [c.metrics_port for c in configs] == [9470, 9471, 9472]
    assert len({c.app_id for c in configs}) == 1  # one consumer group


def test_no_metrics_stays_no_metrics_for_every_worker(tmp_path: Path) -> None:
    settings = _settings(tmp_path, processor_metrics_port=0)
    assert processor_config(settings, 4, worker_index=2).metrics_port is None


def test_the_pool_starts_this_python_with_one_numbered_worker_each() -> None:
    """`python -m dua run processor`, one worker each, its index and the pool's log level."""
    for index, spec in enumerate(worker_specs(2, "warn")):
        argv = list(spec.argv)
        assert argv[:5] == [sys.executable, "-m", "dua", "run", "processor"]
        options = dict(zip(argv[5::2], argv[6::2], strict=True))
        assert options == {"--workers": "1", "--worker-index": str(index), "--log-level": "warn"}


def test_ports_past_65535_are_refused_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUA_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("DUA_KAFKA_BOOTSTRAP", "127.0.0.1:9")
    monkeypatch.setenv("DUA_PROCESSOR_METRICS_PORT", "65535")
    result = CliRunner().invoke(cli, ["run", "processor", "--workers", "2"])
    assert result.exit_code == 2
    assert "65535..65536" in result.output
    assert "DUA_PROCESSOR_METRICS_PORT" in result.output


def test_workers_out_of_range_are_refused() -> None:
    result = CliRunner().invoke(cli, ["run", "processor", "--workers", "0"])
    assert result.exit_code == 2
    assert "--workers" in result.output


@pytest.mark.parametrize(
    ("choice", "level"),
    [("debug", "DEBUG"), ("info", "INFO"), ("warn", "WARNING"), ("error", "ERROR")],
)
def test_every_log_level_choice_is_a_logging_level(choice: str, level: str) -> None:
    """The same name for the worker's own set-up and for Faust's (`logging_level`)."""
    assert logging_level(choice) == level
    assert isinstance(logging.getLevelName(level), int)


def test_a_pool_worker_s_log_format_names_it(tmp_path: Path) -> None:
    assert "[worker 1] " in str(processor_config(_settings(tmp_path), 4, worker_index=1).log_format)
    assert "[worker" not in str(processor_config(_settings(tmp_path), 4).log_format)
