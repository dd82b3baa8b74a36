"""`partition_lag`: records waiting on a partition, 0 when an idle partition is caught up."""

from __future__ import annotations

import pytest

from dua_stream.processor.lag import partition_lag


@pytest.mark.parametrize(
    ("highwater", "processed", "committed", "consumed", "idle", "lag"),
    [
        (100, 60, 50, 80, False, 40),  # busy: what is confirmed counts
        (100, None, None, None, False, 100),  # nothing known yet: all of it waits
        (100, None, 100, 100, True, 0),  # restarted, nothing new: the committed offset
        (100, None, 70, 70, False, 30),  # restarted, working through the rest
        (100, 99, 99, 100, True, 0),  # a commit marker at 99: only the position passes it
        (100, 99, 99, 100, False, 1),  # ...but not while a batch is in flight
        (100, 90, 95, None, True, 5),  # no position yet
        (100, 120, 0, 0, True, 0),  # a high watermark older than the position
    ],
)
def test_partition_lag(
    highwater: int,
    processed: int | None,
    committed: int | None,
    consumed: int | None,
    idle: bool,
    lag: int,
) -> None:
    assert partition_lag(highwater, processed, committed, consumed, idle=idle) == lag
