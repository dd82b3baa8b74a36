"""The SDK installs on its own: a fresh venv with only ./schemas and ./producers/python
imports and works.

Services embed dua-producer; it must not drag in the pipeline (faust, chDB, clickhouse-connect,
pydantic, the `dua` application). Building the two wheels needs the package registry (for the
build backend and the SDK's dependencies); without it the test is skipped, saying so.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = ("faust", "chdb", "clickhouse_connect", "pydantic", "dua", "mode", "aiokafka")
# pip's words for "the registry cannot be reached", as opposed to a broken package.
UNREACHABLE = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "ProxyError",
    "Could not fetch URL",
    "Read timed out",
    "No matching distribution found",
)

PROBE = textwrap.dedent(
    """
    import importlib.util, json, sys
    import dua_producer
    from dua_producer.testing import capture_events

    absent = {name: importlib.util.find_spec(name) is None for name in sys.argv[1:]}
    with capture_events() as captured:
        dua_producer.default_client().emit(
            ["user.name"], "service.inquiry_response", subject="member-1"
        )
    print(json.dumps({
        "absent": absent,
        "loaded": sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[1:]),
        "purpose": captured[0]["purpose"],
        "pseudonymized": captured[0]["subject_id"] == captured.pseudonym("member-1"),
        "prometheus": importlib.util.find_spec("prometheus_client") is not None,
    }))
    """
)


def test_sdk_installs_alone_and_imports_without_the_pipeline(tmp_path: Path) -> None:
    """pip install ./schemas ./producers/python in a bare venv: the SDK works, the pipeline
    is absent."""
    venv = tmp_path / "sdkvenv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            str(REPO / "requirements" / "constraints.txt"),
            str(REPO / "schemas"),
            str(REPO / "producers" / "python"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = install.stdout + install.stderr
    if install.returncode != 0 and any(marker in output for marker in UNREACHABLE):
        pytest.skip(f"pip cannot reach the package registry: {output.strip().splitlines()[-1]}")
    assert install.returncode == 0, output

    probe = subprocess.run(
        [str(python), "-c", PROBE, *FORBIDDEN],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,  # not the repository: nothing importable by accident
    )
    assert probe.returncode == 0, probe.stderr
    result = json.loads(probe.stdout)
    assert result["absent"] == dict.fromkeys(FORBIDDEN, True)
    assert result["loaded"] == []
    assert result["purpose"] == "service.inquiry_response"
    assert result["pseudonymized"] is True
    assert result["prometheus"] is False, "prometheus-client is an extra, not a dependency"
