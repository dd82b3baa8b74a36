"""How many records of an input partition wait to be processed: the consumer lag metric.

It feeds `DuaPipelineStalled` (lag above 0 while nothing is classified: critical), so a
caught-up, idle partition must read 0, which the high watermark minus the next offset to
process does not give by itself in two cases:

* after a restart, nothing of a partition has been processed yet, but everything before
  its committed offset was, by the worker before;
* the last offsets of a partition may hold no record to process: a transaction's commit or
  abort marker, aborted records. The consumer skips them, so no processed record ever
  stands after them; only the consumer's own position passes them.
"""

from __future__ import annotations


def partition_lag(
    highwater: int,
    processed: int | None,
    committed: int | None,
    consumed: int | None,
    *,
    idle: bool,
) -> int:
    """Records waiting on one partition.

    `processed`: the offset after the last record whose outputs are confirmed (this run);
    `committed`: the group's committed offset; `consumed`: the consumer's position (after
    the last record handed out, markers and aborted records skipped); `idle`: no batch is in
    flight, so every record handed out is processed and the position counts too.
    """
    position = max(processed or 0, committed or 0)
    if idle and consumed is not None:
        position = max(position, consumed)
    return max(highwater - position, 0)
