"""`Spool`: a durable, bounded, append-only queue of messages Kafka did not take.

Files under one directory, which one process owns (a lock file says so):

* `<n>.seg`: segments of `spool_format` records, appended in order; a new segment starts when
  the current one passes `segment_bytes` or when replay reaches it;
* `<n>.ack`: how many bytes of segment `n` were delivered (written after each replay batch,
  so a restart re-sends at most one batch);
* `spool.lock`: locked (fcntl record lock, see `_take_lock`) while a client uses the directory.

Every append is one `write` to the segment file, so a killed process loses nothing it had
appended. Surviving a *machine* crash needs the data on disk; the `fsync` policy says when:
`always` (every append; slowest), `interval` (at most `fsync_interval_s` after the append, by
the replay thread; the default), or `never` (the OS decides). A segment is deleted once every
record in it was delivered. Past `max_bytes`, appends are refused and the caller counts the
event as dropped.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from dua_producer.spool_format import SpoolRecord, frame, scan
from dua_producer.vocabulary import FsyncPolicy
from dua_schemas import ConfigError

log = logging.getLogger("dua_producer.spool")

LOCK_NAME = "spool.lock"


@dataclass(slots=True)
class _Segment:
    number: int
    path: Path
    size: int  # bytes in the file
    records: int  # records not yet delivered
    cursor: int = 0  # bytes delivered, from the start
    loaded: deque[SpoolRecord] | None = field(default=None)  # records read for replay

    @property
    def ack_path(self) -> Path:
        return self.path.with_suffix(".ack")


class Spool:
    """See the module docstring; every method is safe to call from any thread."""

    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int,
        segment_bytes: int,
        fsync: FsyncPolicy = "interval",
        fsync_interval_s: float = 1.0,
    ) -> None:
        self.directory = directory
        self._max_bytes = max_bytes
        self._segment_bytes = segment_bytes
        self._fsync = fsync
        self._fsync_interval = fsync_interval_s
        self._lock = threading.Lock()
        self._sealed: deque[_Segment] = deque()
        self._active: _Segment | None = None
        self._fd = -1
        self._bytes = 0
        self._pending = 0
        self._dirty = False
        self._dir_dirty = False
        self._last_sync = time.monotonic()
        directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _take_lock(directory)
        try:
            self._recover()
        except BaseException:
            _release_lock(self._lock_fd)
            raise

    # -- state ----------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Records appended and not yet delivered."""
        return self._pending

    @property
    def size_bytes(self) -> int:
        """Bytes the segment files take (delivered records free theirs with their segment)."""
        return self._bytes

    # -- writing --------------------------------------------------------------------------
    def append(self, topic: str, key: bytes, value: bytes) -> bool:
        """Append one message; False when the spool is full or the disk refused it."""
        data = frame(topic, key, value)
        with self._lock:
            if self._lock_fd < 0:
                return False
            if self._bytes + len(data) > self._max_bytes:
                return False
            active = self._active
            if active is None or (active.size and active.size + len(data) > self._segment_bytes):
                active = self._start_segment()
            try:
                _write_all(self._fd, data)
            except OSError as exc:
                log.error("spool: cannot write to %s: %s", active.path, exc)  # noqa: TRY400 - expected, no traceback
                self._undo_partial_write(active)
                return False
            active.size += len(data)
            active.records += 1
            self._bytes += len(data)
            self._pending += 1
            if self._fsync == "always":
                self._sync_locked()
            else:
                self._dirty = True
            return True

    def sync(self) -> None:
        """Force appended records to disk now."""
        with self._lock:
            self._sync_locked()

    def sync_if_due(self) -> None:
        """Under the `interval` policy, sync when the interval has passed since the last one."""
        if self._fsync != "interval" or not (self._dirty or self._dir_dirty):
            return
        if time.monotonic() - self._last_sync >= self._fsync_interval:
            self.sync()

    # -- replaying ------------------------------------------------------------------------
    def next_batch(self, limit: int) -> list[SpoolRecord]:
        """The oldest undelivered records, at most `limit`, in the order they were appended.

        The batch stays taken until `settle` says how much of it was delivered.
        """
        with self._lock:
            head = self._head()
            if head is None:
                return []
            loaded = self._load(head)
            count = min(limit, len(loaded))
            return [loaded.popleft() for _ in range(count)]

    def settle(self, batch: list[SpoolRecord], delivered: int) -> None:
        """The first `delivered` records of `batch` reached Kafka; the rest go back in front."""
        if not batch:
            return
        with self._lock:
            head = self._sealed[0] if self._sealed else None
            if head is None or head.loaded is None:
                return
            head.loaded.extendleft(reversed(batch[delivered:]))
            if delivered == 0:
                return
            head.cursor = batch[delivered - 1].end
            head.records -= delivered
            self._pending -= delivered
            if head.records == 0 and not head.loaded:
                self._delete(head)
            else:
                _write_cursor(head)

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        """Sync, close the files and release the directory."""
        with self._lock:
            if self._lock_fd < 0:
                return
            self._sync_locked()
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            if self._active is not None and self._active.size == 0:
                self._active.path.unlink(missing_ok=True)
            self._active = None
            _release_lock(self._lock_fd)
            self._lock_fd = -1

    # -- internals (called with the lock held) ---------------------------------------------
    def _recover(self) -> None:
        for path in sorted(self.directory.glob("*.seg")):
            try:
                number = int(path.stem)
            except ValueError:
                log.warning("spool: ignoring %s (not a segment name)", path)
                continue
            segment = _recover_segment(number, path)
            if segment.records == 0:
                self._remove_files(segment)
                continue
            self._sealed.append(segment)
            self._bytes += segment.size
            self._pending += segment.records
        for orphan in self.directory.glob("*.ack"):
            if not orphan.with_suffix(".seg").exists():
                orphan.unlink(missing_ok=True)
        if self._pending:
            log.info(
                "spool: %d undelivered records in %d segments under %s will be replayed",
                self._pending,
                len(self._sealed),
                self.directory,
            )

    def _next_number(self) -> int:
        numbers = [s.number for s in self._sealed]
        if self._active is not None:
            numbers.append(self._active.number)
        return max(numbers, default=0) + 1

    def _start_segment(self) -> _Segment:
        self._seal_active()
        number = self._next_number()
        path = self.directory / f"{number:016d}.seg"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._active = _Segment(number, path, size=0, records=0)
        self._dir_dirty = True
        return self._active

    def _seal_active(self) -> None:
        active = self._active
        if active is None:
            return
        if self._dirty and self._fsync != "never":
            os.fsync(self._fd)
            self._dirty = False
        os.close(self._fd)
        self._fd = -1
        self._active = None
        if active.records:
            self._sealed.append(active)
        else:
            active.path.unlink(missing_ok=True)

    def _head(self) -> _Segment | None:
        if not self._sealed and self._active is not None and self._active.records:
            self._seal_active()  # replay reached the newest records: later appends start anew
        return self._sealed[0] if self._sealed else None

    def _load(self, head: _Segment) -> deque[SpoolRecord]:
        if head.loaded is None:
            records, _ = scan(head.path.read_bytes(), head.cursor)
            head.loaded = deque(records)
            head.records = len(records)
        return head.loaded

    def _delete(self, segment: _Segment) -> None:
        self._sealed.remove(segment)
        self._bytes -= segment.size
        self._remove_files(segment)

    def _remove_files(self, segment: _Segment) -> None:
        segment.path.unlink(missing_ok=True)
        segment.ack_path.unlink(missing_ok=True)
        self._dir_dirty = True

    def _sync_locked(self) -> None:
        if self._dirty and self._fd >= 0:
            os.fsync(self._fd)
        if self._dir_dirty:
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        self._dirty = self._dir_dirty = False
        self._last_sync = time.monotonic()

    def _undo_partial_write(self, active: _Segment) -> None:
        # A half-written record would hide every later one from recovery: cut it off.
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, active.size)
        self._seal_active()


def _in_use(directory: Path) -> ConfigError:
    return ConfigError(
        f"spool directory {directory} is in use by another process; give each process "
        "its own DUA_SPOOL_DIR"
    )


def _take_lock(directory: Path) -> int:
    """Lock `spool.lock` with a POSIX record lock (fcntl `F_SETLK`, whole file, exclusive).

    The lock every SDK takes (Java's `FileChannel.tryLock` is the same lock), so a JVM and a
    Python process never share a directory. Such a lock belongs to the process and is lost
    when *any* descriptor of the file closes, so a second spool in this process is refused
    by `_HELD` before it opens the file.
    """
    name = str(directory.resolve())
    with _HELD_LOCK:
        if name in _HELD:
            raise _in_use(directory)
        fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise _in_use(directory) from None
        _HELD[name] = fd
    return fd


def _release_lock(fd: int) -> None:
    with _HELD_LOCK:
        for name, held in list(_HELD.items()):
            if held == fd:
                del _HELD[name]
        os.close(fd)


_HELD: dict[str, int] = {}  # directories this process holds, by resolved path
_HELD_LOCK = threading.Lock()


def _recover_segment(number: int, path: Path) -> _Segment:
    data = path.read_bytes()
    segment = _Segment(number, path, size=len(data), records=0)
    records, end = scan(data)
    cursor = _read_cursor(segment.ack_path)
    if cursor and cursor not in {r.end for r in records}:
        log.warning("spool: %s has an ack cursor off record bounds; replaying it all", path)
        cursor = 0
    segment.cursor = cursor
    records = [r for r in records if r.end > cursor]
    if not end.clean:
        log.warning(
            "spool: %s ends with %s at byte %d (a write cut short by a crash); "
            "skipped it, %d records before it are kept",
            path,
            end.problem,
            end.offset,
            len(records),
        )
    segment.records = len(records)
    return segment


def _read_cursor(path: Path) -> int:
    try:
        return int(path.read_text(encoding="ascii").strip() or 0)
    except (OSError, ValueError):
        return 0  # no or unreadable cursor: replay the whole segment (duplicates, not loss)


def _write_cursor(segment: _Segment) -> None:
    tmp = segment.ack_path.with_suffix(".ack.tmp")
    tmp.write_text(str(segment.cursor), encoding="ascii")
    tmp.replace(segment.ack_path)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
