"""Which replayed writes are sent whole again, and which partitions wait (pure logic, no I/O).

After a crash the ranges a write planned are read again, perhaps by several sinks. Sent again
whole (the same insert, the same tokens), a write is exact: ClickHouse drops what landed and
the views' targets fill in what they missed. That needs all of its ranges at hand; a range of
a partition read here that has not arrived yet is waited for (bounded by the caller); one that
will not come here (another sink reads its partition now, or it was committed already) leaves
the rest to be replayed range by range (`AuditStore.replay`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dua_sink.batching import Member, Ready


def plan_replays(
    ready: Ready,
    members: Mapping[str, frozenset[Member]],
    may_come: Callable[[Member], bool],
    waited_out: Callable[[str], bool],
) -> tuple[Ready, frozenset[str]]:
    """`ready` without the partitions that wait, and the writes to send whole.

    `members`: every range of each write with a replayed segment in `ready`; `may_come`: a
    range not in `ready` may still be read here; `waited_out`: the write has waited long
    enough (its ranges at hand are then replayed range by range)."""
    present = replayed_writes(ready)
    whole: set[str] = set()
    waiting: set[tuple[str, int]] = set()
    for write_id, ranges in present.items():
        expected = members.get(write_id, frozenset())
        if expected and ranges >= expected:
            whole.add(write_id)
        elif not waited_out(write_id) and any(map(may_come, expected - ranges)):
            waiting |= {(topic, partition) for topic, partition, _, _ in expected}
    kept = [(b, s) for b, s in ready if (b.topic, b.partition) not in waiting]
    return kept, frozenset(whole)


def replayed_writes(ready: Ready) -> dict[str, set[Member]]:
    """The ranges of each write (of migration 007 or later) replayed in `ready`."""
    present: dict[str, set[Member]] = {}
    for _, segments in ready:
        for segment in segments:
            if segment.planned and segment.write_id:
                present.setdefault(segment.write_id, set()).add(segment.member)
    return present
