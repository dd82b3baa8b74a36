"""The sink's retry backoff."""

from __future__ import annotations

from dua_sink import BackoffPolicy


def test_backoff_doubles_up_to_its_ceiling() -> None:
    """Delays grow 0.5, 1, 2 … and stop at max_s."""
    policy = BackoffPolicy(initial_s=0.5, max_s=3.0)
    assert [policy.delay(n) for n in range(6)] == [0.0, 0.5, 1.0, 2.0, 3.0, 3.0]
