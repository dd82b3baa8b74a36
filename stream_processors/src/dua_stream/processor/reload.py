"""The policy in force, replaced without a restart when its file changes or on SIGHUP.

A new version is compiled before it replaces the old one; a file that does not load is
refused with one log line naming every problem, and the old engine stays in force. The
swap happens between batches, so every output of one batch carries one policy version.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from dua_policy import Engine, PolicyError, load_policy

log = logging.getLogger("dua_stream.processor.reload")

Loader = Callable[[Path | None], Engine]


def _load_engine(path: Path | None) -> Engine:
    return Engine(load_policy(path))


class PolicyReloader:
    """Holds the current `Engine`; `maybe_reload()` checks the file at most every `poll_s`."""

    __slots__ = (
        "_clock",
        "_due",
        "_loader",
        "_on_change",
        "_poll_s",
        "_requested",
        "_seen",
        "engine",
        "path",
    )

    def __init__(
        self,
        path: Path | None,
        *,
        poll_s: float = 2.0,
        loader: Loader = _load_engine,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, str], None] | None = None,
    ) -> None:
        self.path = path
        self._loader = loader
        self._poll_s = poll_s
        self._clock = clock
        self._on_change = on_change
        self._requested = False
        self._seen = self._stamp()
        self.engine = loader(path)  # the first load must succeed: PolicyError otherwise
        self._due = clock() + poll_s

    def request(self) -> None:
        """Reload at the next check whatever the file's stamp (SIGHUP)."""
        self._requested = True

    def maybe_reload(self) -> bool:
        """Reload when asked to or when the file changed; True when a new engine is in force."""
        now = self._clock()
        if not self._requested and now < self._due:
            return False
        self._due = now + self._poll_s
        stamp = self._stamp()
        if not self._requested and stamp == self._seen:
            return False
        self._requested = False
        self._seen = stamp
        return self._reload()

    def _reload(self) -> bool:
        try:
            engine = self._loader(self.path)
        except (PolicyError, OSError) as exc:  # a file being rewritten may vanish briefly
            log.error(  # noqa: TRY400 - one line naming every problem; no traceback wanted
                "policy reload refused; %s stays in force: %s", self.engine.policy_version, exc
            )
            if self._on_change is not None:
                self._on_change("refused", self.engine.policy_version)
            return False
        if engine.policy_version == self.engine.policy_version:
            return False
        log.info("policy %s replaces %s", engine.policy_version, self.engine.policy_version)
        self.engine = engine
        if self._on_change is not None:
            self._on_change("loaded", engine.policy_version)
        return True

    def _stamp(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            info = self.path.stat()
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size)
