"""At most N messages in any 60-second span (a sliding window of the last posts)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Final

WINDOW_S: Final = 60.0


class MessageRateLimiter:
    """Grants a slot while fewer than `max_per_minute` messages went out in the last minute."""

    __slots__ = ("_clock", "_sent", "max_per_minute")

    def __init__(self, max_per_minute: int, clock: Callable[[], float]) -> None:
        if max_per_minute < 1:
            raise ValueError(f"max_per_minute must be at least 1, got {max_per_minute}")
        self.max_per_minute = max_per_minute
        self._clock = clock
        self._sent: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - WINDOW_S:
            self._sent.popleft()

    def available(self) -> bool:
        """Whether a message may be posted now."""
        self._expire(self._clock())
        return len(self._sent) < self.max_per_minute

    def record(self) -> None:
        """Count a message just posted (or attempted: a failing webhook must not be hammered)."""
        self._sent.append(self._clock())

    def next_slot_in(self) -> float:
        """Seconds until a message may be posted (0 when one may be posted now)."""
        now = self._clock()
        self._expire(now)
        if len(self._sent) < self.max_per_minute:
            return 0.0
        return self._sent[0] + WINDOW_S - now
