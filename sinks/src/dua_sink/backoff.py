"""Exponential backoff while ClickHouse is unavailable."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Delays double from `initial_s` up to `max_s`."""

    initial_s: float = 0.5
    max_s: float = 30.0
    multiplier: float = 2.0

    def delay(self, failures: int) -> float:
        """The wait after the `failures`-th consecutive failure (1-based)."""
        if failures <= 0:
            return 0.0
        return float(min(self.max_s, self.initial_s * self.multiplier ** (failures - 1)))
