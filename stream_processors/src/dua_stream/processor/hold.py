"""`GraceHold`: raw records wait out the consent grace before they are classified.

Consent and raw are different topics with no order between them: an opt-out produced just
before an access may be fetched just after it. A raw record produced (its Kafka timestamp)
less than `grace_ms` ago is held, and with it every later record of its partition (per
subject order holds, and so does the contiguity of acknowledged offsets), until the grace
has passed; consent changes fetched meanwhile are applied first. Held records are not
acknowledged, so a crash processes them again. Changes later than the grace are the consent
re-check's (`recheck.py`).

The cost: up to `grace_ms` of latency on live traffic (the consumer's next fetch waits no longer
than the first held record's grace, `due_in_ms`, so a pause in traffic adds nothing), and the
held records in memory (one fetch's worth per `grace_ms` at most). Records older than the grace,
a backlog, pass with one dict lookup each.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, Final

# The default of `DUA_PROCESSOR_CONSENT_GRACE_MS` (`Tuning.consent_grace_ms`), chosen by
# measurement: `dua_processor_consent_delay_seconds` over runs at 300 and 3,000 events/s
# (bench/pipeline_e2e.py --consent-per-s) put 99 % of consent changes within it on a quiet
# machine; see the README's "Choosing the grace".
CONSENT_GRACE_MS: Final = 250
# While a consent partition of the worker has records not yet fetched (a backlog after a
# restart or an outage), or cannot say yet (no fetch response since it was assigned), raw
# records of any age wait for them, at most this long: a backlog's records are older than
# the grace, and fetch order between the two topics is not theirs.
# Bounded because an open transaction on the consent topic keeps it "behind" until it ends.
CONSENT_BACKLOG_HOLD_MS: Final = 2_000
# While records wait for a consent backlog (their grace passed), the next fetch waits this
# long at most: the backlog's records arrive by fetches anyway, this only bounds a quiet one.
BACKLOG_RECHECK_MS: Final = 20


class GraceHold:
    """Per-partition queues of raw records still within the grace."""

    __slots__ = ("_grace_ms", "_held")

    def __init__(self, grace_ms: int) -> None:
        self._grace_ms = grace_ms
        self._held: dict[int, deque[Any]] = {}

    @property
    def holding(self) -> bool:
        """Some records are held."""
        return bool(self._held)

    def release(
        self, raw: Sequence[Any], now_ms: int, *, consent_behind: bool = False
    ) -> Sequence[Any]:
        """The records of `raw` and those held before, whose grace has passed, in partition
        order; the others are held. `raw` itself when none is held (the common case).
        `consent_behind`: the consent topic has records not yet fetched: every record waits."""
        if consent_behind:
            horizon = -1  # Kafka timestamps are not negative: nothing passes
        elif self._grace_ms <= 0 and not self._held:
            return raw
        else:
            horizon = now_ms - self._grace_ms
        held = self._held
        ready: list[Any] = []
        for record in raw:
            partition = record.partition
            queue = held.get(partition)
            if queue is not None:
                queue.append(record)
            elif (getattr(record, "timestamp", None) or 0) > horizon:
                held[partition] = deque((record,))
            else:
                ready.append(record)
        if not held:
            return raw
        for partition in list(held):
            queue = held[partition]
            while queue and (getattr(queue[0], "timestamp", None) or 0) <= horizon:
                ready.append(queue.popleft())
            if not queue:
                del held[partition]
        return ready

    def due_in_ms(self, now_ms: int) -> int | None:
        """Milliseconds until the first held record's grace has passed (at least
        `BACKLOG_RECHECK_MS` once it has: then only a consent backlog holds it); None when
        nothing is held."""
        if not self._held:
            return None
        first = min(getattr(q[0], "timestamp", None) or 0 for q in self._held.values())
        due = first + self._grace_ms - now_ms
        return due if due > 0 else BACKLOG_RECHECK_MS

    def flush(self) -> list[Any]:
        """Every record held (before partitions are given away, or the worker stops)."""
        records = [record for queue in self._held.values() for record in queue]
        self._held.clear()
        return records
