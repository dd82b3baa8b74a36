"""Checks and signals the broker's process by pid, also from a process that did not start it.

A pid alone is not proof: after a reboot or a crash it may belong to another program, so
the broker's command line (which names its own server.properties) must match too. An exited
broker whose parent has not reaped it is a zombie and counts as gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

_PROC = Path("/proc")


def is_alive(pid: int, marker: str) -> bool:
    """Whether `pid` runs and its command line contains `marker`."""
    if not _PROC.joinpath("self").exists():
        # Without /proc (macOS) the pid alone decides; the broker's commands need no sink else
        from dua_sink import pid_alive  # noqa: PLC0415 - loads chDB and clickhouse-connect

        return pid_alive(pid)
    entry = _PROC / str(pid)
    try:
        stat = (entry / "stat").read_text(encoding="utf-8", errors="replace")
        cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    # The state letter follows the parenthesised command name, which may itself hold spaces.
    state = stat.rsplit(")", 1)[-1].split()[0]
    if state in {"Z", "X"}:
        return False
    return marker in cmdline.decode(errors="replace")


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Send `sig` to the process group led by `pid` (the broker runs in its own session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def wait_gone(pid: int, marker: str, timeout: float) -> bool:
    """Poll until the process is gone; False if it still runs after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while is_alive(pid, marker):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True
