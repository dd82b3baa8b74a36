"""No more than N messages in any minute."""

from __future__ import annotations

import pytest

from dua_stream.notifier import MessageRateLimiter
from dua_stream.notifier.testing import ManualClock


def test_budget_is_spent_then_refilled_after_a_minute(clock: ManualClock) -> None:
    """Two per minute: the third waits until the first is a minute old."""
    limiter = MessageRateLimiter(2, clock)
    assert limiter.available()
    limiter.record()
    clock.advance(10)
    limiter.record()
    assert not limiter.available()
    assert limiter.next_slot_in() == 50.0
    clock.advance(50)
    assert limiter.available()
    assert limiter.next_slot_in() == 0.0


def test_zero_budget_is_refused(clock: ManualClock) -> None:
    """A limiter that would never let a message through is a configuration mistake."""
    with pytest.raises(ValueError, match="at least 1"):
        MessageRateLimiter(0, clock)
