"""`WorkerPool`: N copies of one command as child processes, kept running until stopped.

`dua run processor --workers N` uses it to put every core of one host to work: N processor
workers in one consumer group, each a process of its own (one CPython process uses one core).

- A child that exits (crash, `kill -9`, or a worker that stopped itself because a batch could
  not be confirmed) is started again after a pause that doubles with each quick failure of
  that slot (1 s, 2 s, … 30 s) and resets once it has run for a minute. Its partitions go
  to the other workers meanwhile (Faust's rebalance), so nothing waits for it.
- A child that exits with an error status within `startup_grace_s` of the pool's start is a
  start-up problem (a broken policy, a bad setting): retrying would only repeat it, so the
  pool stops every child and exits with that child's status. A child ended by a signal
  (`kill -9`, a crash) is restarted even then: that is not what a configuration does.
- SIGTERM or SIGINT: every child gets SIGTERM (a graceful stop: batches in flight are
  confirmed and committed), then SIGKILL after `stop_timeout_s`. SIGHUP is passed on (policy
  reload).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Final

log = logging.getLogger("dua.worker_pool")

POLL_S: Final = 0.2
FIRST_PAUSE_S: Final = 1.0
MAX_PAUSE_S: Final = 30.0
HEALTHY_AFTER_S: Final = 60.0  # a child that ran this long restarts with the first pause again


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """How to start one child: its command line (it inherits the pool's environment)."""

    argv: Sequence[str]


@dataclass(slots=True)
class _Slot:
    index: int
    spec: WorkerSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    pause_s: float = FIRST_PAUSE_S
    restarts: int = 0


class WorkerPool:
    """Runs one child per spec until SIGTERM/SIGINT (`run()` returns the exit status)."""

    def __init__(
        self,
        specs: Sequence[WorkerSpec],
        *,
        startup_grace_s: float = 10.0,
        stop_timeout_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not specs:
            raise ValueError("a worker pool needs at least one worker")
        self._slots = [_Slot(i, spec) for i, spec in enumerate(specs)]
        self._startup_grace_s = startup_grace_s
        self._stop_timeout_s = stop_timeout_s
        self._clock = clock
        self._stopping = False
        self._reload = False
        self._started = 0.0

    @property
    def pids(self) -> list[int | None]:
        """The running children's pids by worker index (None while one waits to restart)."""
        return [
            slot.process.pid if slot.process and slot.process.poll() is None else None
            for slot in self._slots
        ]

    @property
    def restarts(self) -> int:
        return sum(slot.restarts for slot in self._slots)

    def stop(self) -> None:
        """Ask `run()` to stop every child and return (what SIGTERM and SIGINT do)."""
        self._stopping = True

    def run(self) -> int:
        """Start every child and keep them running; 0 after a requested stop."""
        previous = {
            sig: signal.signal(sig, self._on_signal)
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
        }
        try:
            self._started = self._clock()
            for slot in self._slots:
                self._start(slot)
            status = self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self._reload = True
        else:
            self._stopping = True

    def _start(self, slot: _Slot) -> None:
        slot.process = subprocess.Popen(list(slot.spec.argv))
        slot.started_at = self._clock()
        slot.restart_at = None
        log.info("worker %d started (pid %d)", slot.index, slot.process.pid)

    def _watch(self) -> int:
        while not self._stopping:
            if self._reload:
                self._reload = False
                self._signal_all(signal.SIGHUP)
            now = self._clock()
            for slot in self._slots:
                failed = self._check(slot, now)
                if failed is not None:
                    return failed
            time.sleep(POLL_S)
        return 0

    def _check(self, slot: _Slot, now: float) -> int | None:
        """Restart `slot` when due; the exit status when it failed at start-up."""
        if slot.restart_at is not None:
            if now >= slot.restart_at:
                slot.restarts += 1
                self._start(slot)
            return None
        assert slot.process is not None
        status = slot.process.poll()
        if status is None:
            return None
        if status > 0 and now - self._started < self._startup_grace_s:
            log.error(
                "worker %d exited with status %d during start-up; stopping the pool "
                "(its log above says why)",
                slot.index,
                status,
            )
            return status
        if now - slot.started_at >= HEALTHY_AFTER_S:
            slot.pause_s = FIRST_PAUSE_S
        log.warning(
            "worker %d (pid %d) exited with status %d; starting it again in %.0f s",
            slot.index,
            slot.process.pid,
            status,
            slot.pause_s,
        )
        slot.restart_at = now + slot.pause_s
        slot.pause_s = min(slot.pause_s * 2, MAX_PAUSE_S)
        return None

    def _signal_all(self, sig: signal.Signals) -> None:
        for slot in self._slots:
            if slot.process is not None and slot.process.poll() is None:
                slot.process.send_signal(sig)

    def _stop_all(self) -> None:
        self._signal_all(signal.SIGTERM)
        deadline = self._clock() + self._stop_timeout_s
        for slot in self._slots:
            if slot.process is None:
                continue
            try:
                slot.process.wait(max(deadline - self._clock(), 0.0))
            except subprocess.TimeoutExpired:
                log.warning("worker %d did not stop in time; killing it", slot.index)
                slot.process.kill()
                slot.process.wait()
