"""`<state_dir>/sink.json`: how other processes find a running sink's read endpoint."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_FILE = "sink.json"


@dataclass(frozen=True, slots=True)
class SinkRecord:
    """A running sink: its pid, where it reads and writes, its ports (0: none)."""

    pid: int
    dsn: str
    database: str
    query_port: int
    metrics_port: int
    started_at: str


def state_path(state_dir: Path) -> Path:
    return state_dir / STATE_FILE


def write_record(state_dir: Path, record: SinkRecord) -> Path:
    """Write atomically (readers never see half a file)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_path(state_dir)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def read_record(state_dir: Path) -> SinkRecord | None:
    """The record, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(state_path(state_dir).read_text(encoding="utf-8"))
        return SinkRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def remove_record(state_dir: Path, pid: int) -> None:
    """Remove the record if it is this process's own."""
    record = read_record(state_dir)
    if record is not None and record.pid == pid:
        state_path(state_dir).unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """Whether a process `pid` exists (signal 0 reaches it, or it belongs to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
