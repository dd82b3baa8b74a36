"""`dua policy check | show | diff`."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dua.cli import cli


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests see neither the developer's DUA_* variables nor a dua.toml."""
    monkeypatch.delenv("DUA_POLICY", raising=False)
    monkeypatch.delenv("DUA_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def default_text() -> str:
    """The shipped default policy's text."""
    return resources.files("dua_policy").joinpath("default_policy.yaml").read_text("utf-8")


def run(*args: str) -> Any:
    """Invoke the dua command group."""
    return CliRunner().invoke(cli, list(args))


def test_check_accepts_the_default_policy(tmp_path: Path, default_text: str) -> None:
    """A valid file: exit 0 and a one-line summary with the version."""
    path = tmp_path / "policy.yaml"
    path.write_text(default_text, "utf-8")
    result = run("policy", "check", str(path))
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"{path}: ok, policy 2026.11+")
    assert "14 purposes, 17 elements, 17 rules (17 active, 0 shadow)" in line


def test_check_lists_every_problem_with_its_location(tmp_path: Path, default_text: str) -> None:
    """An invalid file: exit 1 and each problem on its own line, file and path first."""
    broken = default_text.replace(
        "permitted: [user.account.id, user.behavior.usage_history]",
        "permitted: [user.account.id, user.foo]",
    ).replace("severity: low", "severity: minor")
    path = tmp_path / "policy.yaml"
    path.write_text(broken, "utf-8")
    result = run("policy", "check", str(path))
    assert result.exit_code == 1
    assert f"{path}: purposes[1].permitted[1]: unknown element 'user.foo'" in result.stderr
    assert f"{path}: rules[12].severity: unknown severity 'minor'" in result.stderr
    assert f"{path}: 2 problem(s)" in result.stderr


def test_show_prints_the_purpose_element_matrix() -> None:
    """One aligned row per purpose, one column per element, marks for permitted."""
    result = run("policy", "show")
    assert result.exit_code == 0, result.output
    table = result.stdout.split("matrix (x = permitted):\n", 1)[1].splitlines()
    header, body = table[0], table[1:]
    assert header.split() == [f"E{n}" for n in range(1, 18)]
    rows = {line.split()[0]: line.split()[1:18] for line in body}
    assert len(rows) == 14
    assert rows["service.points_program"] == ["x"] + ["."] * 7 + ["x"] + ["."] * 8
    assert set(rows["fraud_prevention.investigation"]) == {"x"}
    # aligned: each mark sits under its column heading
    e9 = header.index("E9")
    assert [line[e9] for line in body if line.startswith("service.")] == list(".xx...")
    assert "E9  user.behavior.usage_history" in result.stdout
    assert "ポイントプログラムの運営" in result.stdout


def test_diff_prints_events_whose_violations_differ(tmp_path: Path, default_text: str) -> None:
    """Events judged differently under OLD and NEW are listed with +/- rules, then a count."""
    old = tmp_path / "old.yaml"
    old.write_text(default_text, "utf-8")
    new = tmp_path / "new.yaml"
    new.write_text(
        default_text.replace(
            "permitted: [user.account.id, user.behavior.usage_history]",
            "permitted: [user.account.id, user.behavior.usage_history, user.contact.email]",
        )
        + """
  - id: no_phone_to_client
    severity: high
    mode: active
    when: {destination_in: [CLIENT]}
    select: {element_in: [user.contact.phone]}
    message: "{service} sent {elements} to a client."
""",
        "utf-8",
    )
    events = [
        {"elements": ["user.account.id", "user.contact.email"]},
        {"elements": ["user.contact.phone"], "destination": {"kind": "CLIENT"}},
        {"elements": ["user.account.id"]},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "event_id": f"00000000-0000-4000-8000-00000000000{n}",
                    "occurred_at": "2026-11-01T10:00:00Z",
                    "service": "jalan",
                    "actor": {"kind": "SERVICE", "id": "points"},
                    "purpose": "service.points_program",
                    **fields,
                }
            )
            + "\n"
            for n, fields in enumerate(events)
        ),
        "utf-8",
    )
    result = run("policy", "diff", str(old), str(new), "--input", str(path))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "00000000-0000-4000-8000-000000000000: -purpose_not_permitted"
    assert lines[1] == "00000000-0000-4000-8000-000000000001: +no_phone_to_client"
    assert lines[2].startswith("2 of 3 events differ (policy 2026.11+")
    assert len(lines) == 3
