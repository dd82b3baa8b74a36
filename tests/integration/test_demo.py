"""`dua demo` end to end on the real broker and chDB: everything emitted lands once, every
stateless rule is found, and no process is left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _processes_using(marker: str) -> list[int]:
    """Pids whose command line or environment mentions `marker` (our temp state dir)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            status = (proc / "status").read_text()
            if "State:\tZ" in status:  # a zombie has exited; only its table entry remains
                continue
            blob = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in blob:
            found.append(int(proc.name))
    return found


def test_demo_lands_everything_and_leaves_no_process(kafka_bootstrap: str, tmp_path: Path) -> None:
    """A short demo reports landed == emitted and all 13 stateless rules, and stops its children."""
    suffix = uuid.uuid4().hex[:8]
    state = tmp_path / f"demo-state-{suffix}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DUA_")},
        "DUA_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "DUA_STATE_DIR": str(state),
        "DUA_PROCESSOR_APP_ID": f"demo-processor-{suffix}",
        "DUA_SINK_GROUP": f"demo-sink-{suffix}",
        **{
            f"DUA_TOPIC_{role.upper()}": f"demo.{role}.{suffix}"
            for role in ("raw", "consent", "tagged", "violations", "dlq")
        },
    }
    done = subprocess.run(
        [sys.executable, "-m", "dua", "demo", "--rate", "150", "--duration", "6"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[OK]" in done.stdout.split("landed", 1)[1].splitlines()[0]
    assert "stateless rules found: 16 of 16 [OK]" in done.stdout
    provisions = done.stdout.split("APPI provision records (Art. 29): ", 1)[1].split(";")[0]
    assert int(provisions.replace(",", "")) > 0
    emitted = int(done.stdout.split("emitted", 1)[1].split()[0].replace(",", ""))
    assert emitted == 900
    # The planted bulk export (beside the traffic) is found among the volume anomalies.
    assert "[OK]" in done.stdout.split("anomaly found:", 1)[1].splitlines()[0]
    # Every rule, stateful ones included: each planted finding is found, and nothing more
    # (consent changes lead their ads, so the consent stream's findings are exact too).
    table = done.stdout.split("Violations by rule and severity", 1)[1].split("\n\n", 1)[0]
    rows = [line.split() for line in table.splitlines()[3:] if line.strip()]
    assert len(rows) >= 16
    assert {row[0]: row[2] for row in rows} == {row[0]: row[3] for row in rows}
    assert (state / "demo-report.html").is_file()
    assert _processes_using(str(state)) == []
