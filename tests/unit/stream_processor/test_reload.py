"""`PolicyReloader`: a changed file is loaded, a broken one refused, the old engine kept."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pytest

from dua_stream.processor import PolicyReloader


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _write(path: Path, text: str, stamp: int) -> None:
    path.write_text(text, "utf-8")
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def policy(tmp_path: Path) -> tuple[Path, str]:
    text = (resources.files("dua_policy") / "default_policy.yaml").read_text("utf-8")
    path = tmp_path / "policy.yaml"
    _write(path, text, 1)
    return path, text


def test_changed_file_replaces_the_engine_after_the_poll_interval(policy: tuple[Path, str]) -> None:
    """The new version is in force at the first check after `poll_s`, not before."""
    path, text = policy
    clock, changes = Clock(), []
    reloader = PolicyReloader(
        path, poll_s=2.0, clock=clock, on_change=lambda o, v: changes.append((o, v))
    )
    first = reloader.engine.policy_version
    _write(path, text.replace('version: "2026.11"', 'version: "2026.12"'), 2)
    clock.now = 1.0
    assert not reloader.maybe_reload()
    clock.now = 2.5
    assert reloader.maybe_reload()
    assert reloader.engine.policy_version != first
    assert changes == [("loaded", reloader.engine.policy_version)]


def test_broken_file_is_refused_and_the_old_engine_stays(
    policy: tuple[Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A file that does not load leaves the engine in force and logs one line saying why."""
    path, text = policy
    clock, changes = Clock(), []
    reloader = PolicyReloader(
        path, poll_s=1.0, clock=clock, on_change=lambda o, v: changes.append((o, v))
    )
    engine = reloader.engine
    _write(path, text + "\nunknown_key: 1\n", 2)
    clock.now = 5.0
    assert not reloader.maybe_reload()
    assert reloader.engine is engine
    assert changes == [("refused", engine.policy_version)]
    assert "policy reload refused" in caplog.text


def test_request_forces_a_check_at_once(policy: tuple[Path, str]) -> None:
    """SIGHUP's request reloads before the poll interval is over."""
    path, text = policy
    reloader = PolicyReloader(path, poll_s=60.0, clock=Clock())
    path.write_text(text.replace('version: "2026.11"', 'version: "2026.13"'), "utf-8")
    reloader.request()
    assert reloader.maybe_reload()
    assert reloader.engine.policy.declared_version == "2026.13"
