"""`dua classify`: JSON lines or Avro in, one pinned JSON line per event out, bad lines named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastavro import writer

from dua.cli import cli
from dua_schemas import DATA_ACCESS_EVENT, default_catalog, event_from_json

PINNED_KEYS = [
    "event_id",
    "policy_version",
    "service",
    "purpose",
    "purpose_category",
    "purpose_known",
    "elements",
    "violations",
    "occurred_at",
    "actor",
    "subject_id",
    "operation",
    "processing",
    "destination",
    "origin_service",
    "consent",
    "record_count",
    "trace_id",
    "attributes",
]


def access(number: int, **fields: Any) -> dict[str, Any]:
    """An access event in JSON form with a predictable id."""
    event: dict[str, Any] = {
        "event_id": f"00000000-0000-4000-8000-{number:012d}",
        "occurred_at": f"2026-11-01T10:{number:02d}:00Z",
        "service": "hotpepper-gourmet",
        "actor": {"kind": "SERVICE", "id": "recommender"},
        "subject_id": "subject-1",
        "elements": ["user.behavior.browsing_history", "user.device.ad_id"],
        "purpose": "marketing.targeted_advertising",
    }
    event.update(fields)
    return event


def lines(*items: dict[str, Any] | str) -> str:
    """JSON lines (strings are written as they are)."""
    return "".join(
        (i if isinstance(i, str) else json.dumps(i, ensure_ascii=False)) + "\n" for i in items
    )


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests see neither the developer's DUA_* variables nor a dua.toml."""
    monkeypatch.delenv("DUA_POLICY", raising=False)
    monkeypatch.delenv("DUA_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def run(*args: str, stdin: str | bytes = "") -> Any:
    """Invoke the dua command group."""
    return CliRunner().invoke(cli, list(args), input=stdin)


def test_classify_prints_one_pinned_line_per_event_in_order() -> None:
    """Each event gives one JSON line in the pinned shape, in input order."""
    result = run(
        "classify",
        stdin=lines(access(1), access(2, destination={"kind": "CLIENT", "name": "travel-agency"})),
    )
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["event_id"] for o in out] == [access(1)["event_id"], access(2)["event_id"]]
    assert all(list(o) == PINNED_KEYS for o in out)
    assert out[0]["violations"] == []
    assert [v["rule"] for v in out[1]["violations"]] == ["third_party_sharing"]


def test_consent_lines_update_state_for_later_lines() -> None:
    """A consent line gives no output; later events of its subject are judged with it."""
    opt_out = {
        "type": "consent",
        "subject_id": "subject-1",
        "occurred_at": "2026-11-01T10:01:30Z",
        "targeting_opt_out": True,
    }
    result = run("classify", stdin=lines(access(1), opt_out, access(2)))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 2
    assert out[0]["violations"] == []
    assert [v["rule"] for v in out[1]["violations"]] == ["targeting_opted_out"]


def test_malformed_lines_are_named_and_the_rest_classified() -> None:
    """Bad lines are reported by line number on stderr, the others classified, exit 1."""
    text = lines(access(1), "{not json", access(3, elements=[]), "", access(5))
    result = run("classify", stdin=text)
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 2
    assert "line 2: not JSON" in result.stderr
    assert "line 3: elements: must be a non-empty list of element codes" in result.stderr
    assert "line 4" not in result.stderr  # a blank line is not an error


def test_classify_reads_a_file_with_a_custom_policy(tmp_path: Path) -> None:
    """--input and --policy: a custom YAML rule shows in the output."""
    from importlib import resources  # noqa: PLC0415

    default = resources.files("dua_policy").joinpath("default_policy.yaml").read_text("utf-8")
    policy = tmp_path / "custom.yaml"
    policy.write_text(
        default
        + """
  - id: no_ad_id_anywhere
    severity: low
    mode: shadow
    select: {element_in: [user.device.ad_id]}
    message: "{service} touched {elements}."
""",
        "utf-8",
    )
    events = tmp_path / "events.jsonl"
    events.write_text(lines(access(1)), "utf-8")
    result = run("classify", "--policy", str(policy), "--input", str(events))
    assert result.exit_code == 0, result.output
    (violation,) = json.loads(result.stdout)["violations"]
    assert violation["rule"] == "no_ad_id_anywhere"
    assert violation["mode"] == "shadow"


def test_policy_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --policy, DUA_POLICY names the policy file."""
    from importlib import resources  # noqa: PLC0415

    default = resources.files("dua_policy").joinpath("default_policy.yaml").read_text("utf-8")
    policy = tmp_path / "p.yaml"
    policy.write_text(default.replace('version: "2026.11"', 'version: "2099.1"'), "utf-8")
    monkeypatch.setenv("DUA_POLICY", str(policy))
    result = run("classify", stdin=lines(access(1)))
    assert json.loads(result.stdout)["policy_version"].startswith("2099.1+")


def test_classify_reads_avro_container_files(tmp_path: Path) -> None:
    """--format avro reads DataAccessEvent records from an object container file."""
    schema = default_catalog().latest(DATA_ACCESS_EVENT).parsed
    path = tmp_path / "events.avro"
    records = [dict(event_from_json(access(n, purpose=None))) for n in (1, 2)]
    with path.open("wb") as out:
        writer(out, schema, records)
    result = run("classify", "--format", "avro", "--input", str(path))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["event_id"] for o in out] == [r["event_id"] for r in records]
    assert all("undeclared_purpose" in {v["rule"] for v in o["violations"]} for o in out)


def test_avro_input_that_is_not_avro_exits_1(tmp_path: Path) -> None:
    """A file that is not an Avro container is reported, not a traceback."""
    path = tmp_path / "events.avro"
    path.write_bytes(b"definitely not avro")
    result = run("classify", "--format", "avro", "--input", str(path))
    assert result.exit_code == 1
    assert "not an Avro object container file" in result.stderr
