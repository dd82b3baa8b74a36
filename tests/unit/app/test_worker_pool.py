"""`WorkerPool` with small Python children: restarts, start-up failures, signals, stopping."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dua.worker_pool import WorkerPool, WorkerSpec

# a child that stops cleanly on SIGTERM and notes each SIGHUP in a file
POLITE = """
import signal, sys, time, pathlib
mark = pathlib.Path(sys.argv[1])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGHUP, lambda *_: mark.write_text(mark.read_text() + "hup\\n"))
mark.write_text("")
while True:
    time.sleep(0.05)
"""


def _python(code: str, *args: str) -> WorkerSpec:
    return WorkerSpec([sys.executable, "-c", code, *args])


def _later(seconds: float, action: Callable[[], None]) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie still answers kill(0); its state in /proc says it is dead
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ", 1)[1].startswith("Z")


def _run_until_a_restart(pool: WorkerPool) -> int:
    """Run the pool (in this, the main thread) and stop it once a child was restarted."""

    def stop_after_a_restart() -> None:
        _wait_for(lambda: pool.restarts >= 1)
        pool.stop()

    watcher = threading.Thread(target=stop_after_a_restart)
    watcher.start()
    status = pool.run()
    watcher.join()
    return status


def test_a_child_that_dies_after_start_up_is_started_again(tmp_path: Path) -> None:
    """Exits with 1 after start-up: restarted after the first pause, the pool goes on."""
    crasher = _python("import time, sys; time.sleep(0.3); sys.exit(1)")
    steady = _python(POLITE, str(tmp_path / "steady"))
    pool = WorkerPool([crasher, steady], startup_grace_s=0.0, stop_timeout_s=5)
    assert _run_until_a_restart(pool) == 0
    assert pool.restarts >= 1


def test_a_start_up_failure_stops_the_pool_with_its_status(tmp_path: Path) -> None:
    """A child failing at once (a broken policy, say) is not retried: the others are stopped."""
    steady = _python(POLITE, str(tmp_path / "steady"))
    pool = WorkerPool([steady, _python("import sys; sys.exit(3)")], startup_grace_s=30.0)
    started = time.monotonic()
    assert pool.run() == 3
    assert time.monotonic() - started < 10
    assert pool.restarts == 0
    assert pool.pids == [None, None]  # the steady one was stopped too


def test_a_child_killed_by_a_signal_during_start_up_is_restarted(tmp_path: Path) -> None:
    """`kill -9` (negative status) early on is not a configuration problem: restarted."""
    killed = _python(
        "import os, signal, time; time.sleep(0.2); os.kill(os.getpid(), signal.SIGKILL)"
    )
    pool = WorkerPool([killed], startup_grace_s=60.0, stop_timeout_s=5)
    assert _run_until_a_restart(pool) == 0
    assert pool.restarts >= 1


def test_stop_sends_sigterm_and_sighup_is_passed_on(tmp_path: Path) -> None:
    """SIGHUP to the pool reaches every child; a stop ends them all with SIGTERM."""
    marks = [tmp_path / "a", tmp_path / "b"]
    pool = WorkerPool([_python(POLITE, str(m)) for m in marks], stop_timeout_s=5)
    pids: list[int] = []

    def drive() -> None:
        _wait_for(lambda: all(m.exists() for m in marks))  # handlers installed
        pids.extend(pid for pid in pool.pids if pid is not None)
        os.kill(os.getpid(), signal.SIGHUP)  # the pool's handler, in the main thread
        _wait_for(lambda: all(m.read_text() == "hup\n" for m in marks))
        os.kill(os.getpid(), signal.SIGTERM)

    driver = threading.Thread(target=drive)
    driver.start()
    assert pool.run() == 0
    driver.join()
    assert len(pids) == 2
    assert all(_gone(pid) for pid in pids)
    assert signal.getsignal(signal.SIGTERM) is not pool._on_signal  # handlers given back


def test_a_child_ignoring_sigterm_is_killed_after_the_timeout() -> None:
    stubborn = _python(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    )
    pool = WorkerPool([stubborn], stop_timeout_s=0.5)
    timer = _later(1.0, pool.stop)
    started = time.monotonic()
    assert pool.run() == 0
    timer.join()
    assert time.monotonic() - started < 10
    assert pool.pids == [None]


def test_an_empty_pool_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        WorkerPool([])
