"""`dua run notifier`: settings become the notifier's configuration; a missing webhook is named."""

from __future__ import annotations

import pytest

from dua.cli import main
from dua.commands.notifier import notifier_config, webhook_poster
from dua.settings import load_settings
from dua_schemas import ConfigError
from dua_stream.notifier import NotifierMetrics

pytestmark = pytest.mark.usefixtures("clean_settings_env")


def test_settings_become_the_dispatcher_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """DUA_NOTIFIER_* variables reach the threshold, window and rate limit."""
    monkeypatch.setenv("DUA_NOTIFIER_MIN_SEVERITY", "critical")
    monkeypatch.setenv("DUA_NOTIFIER_GROUP_WINDOW_S", "5")
    monkeypatch.setenv("DUA_NOTIFIER_MAX_MESSAGES_PER_MINUTE", "2")
    config = notifier_config(load_settings())
    assert (config.min_severity, config.group_window_s, config.max_messages_per_minute) == (
        "critical",
        5.0,
        2,
    )


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "critical"), ("high", "high"), ("none", None)]
)
def test_immediate_severity_comes_from_the_settings(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: str | None
) -> None:
    """DUA_NOTIFIER_IMMEDIATE_SEVERITY: critical unless set; `none` makes every post wait."""
    if value is not None:
        monkeypatch.setenv("DUA_NOTIFIER_IMMEDIATE_SEVERITY", value)
    assert notifier_config(load_settings()).immediate_severity == expected


def test_unknown_severity_is_refused_by_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A misspelt DUA_NOTIFIER_MIN_SEVERITY is reported with the variable's name."""
    monkeypatch.setenv("DUA_NOTIFIER_MIN_SEVERITY", "severe")
    with pytest.raises(ConfigError, match="DUA_NOTIFIER_MIN_SEVERITY"):
        load_settings()


def test_webhook_url_stays_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The URL is a SecretStr: not in the settings' repr, not in the poster's."""
    monkeypatch.setenv("DUA_NOTIFIER_WEBHOOK_URL", "http://hooks.test/T000/B000/s3cr3t")
    settings = load_settings()
    poster = webhook_poster(settings, NotifierMetrics())
    assert "s3cr3t" not in repr(settings)
    assert "s3cr3t" not in repr(poster)
    assert poster.host == "hooks.test"


def test_missing_webhook_is_one_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Without DUA_NOTIFIER_WEBHOOK_URL the command exits 2 naming the variable."""
    with pytest.raises(SystemExit) as exited:
        main(["run", "notifier"])
    assert exited.value.code == 2
    assert "DUA_NOTIFIER_WEBHOOK_URL is not set" in capsys.readouterr().err
