"""The notifier's core, without Kafka: triage, group, rate-limit, post, settle offsets.

The Kafka shell (`consumer.py`) hands every record it reads to `accept` or `skip`, calls
`flush` in its loop, and commits what `committable` returns. Time comes from the clock given
at construction, so grouping and rate limiting are tested without waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dua_stream.notifier.errors import WebhookRejected, WebhookUnavailable
from dua_stream.notifier.grouping import Grouper, Position, ViolationGroup
from dua_stream.notifier.message import render
from dua_stream.notifier.metrics import NotifierMetrics, Outcome
from dua_stream.notifier.offsets import OffsetLedger, TopicPartition
from dua_stream.notifier.ratelimit import MessageRateLimiter
from dua_stream.notifier.triage import severity_rank, triage
from dua_stream.notifier.webhook import Poster

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NotifierConfig:
    """How violations become messages."""

    min_severity: str = "high"
    group_window_s: float = 30.0
    max_messages_per_minute: int = 6
    # After a webhook stayed unavailable through every retry, its group waits this long.
    unavailable_cooldown_s: float = 30.0
    # The first violation of a rule and service at or above this severity in a window is
    # posted at once (the rate limit permitting); None: every group waits for its window.
    immediate_severity: str | None = "critical"

    def __post_init__(self) -> None:
        severity_rank(self.min_severity)  # a ConfigError naming the bad value
        if self.immediate_severity is not None:
            severity_rank(self.immediate_severity)


class Dispatcher:
    """Turns accepted violations into grouped, rate-limited webhook posts."""

    __slots__ = ("_grouper", "_ledger", "_limiter", "config", "metrics", "poster")

    def __init__(
        self,
        poster: Poster,
        config: NotifierConfig,
        *,
        clock: Callable[[], float],
        metrics: NotifierMetrics | None = None,
    ) -> None:
        self.poster = poster
        self.config = config
        self.metrics = metrics if metrics is not None else NotifierMetrics()
        immediate = config.immediate_severity
        self._grouper = Grouper(
            config.group_window_s,
            clock,
            immediate_rank=None if immediate is None else severity_rank(immediate),
        )
        self._limiter = MessageRateLimiter(config.max_messages_per_minute, clock)
        self._ledger = OffsetLedger()

    # -- input ---------------------------------------------------------------------------
    def accept(self, position: Position, violation: Mapping[str, Any]) -> Outcome:
        """Take a decoded Violation: group it, or settle it at once when it is not posted."""
        self._ledger.read(position)
        decision = triage(violation, self.config.min_severity)
        if decision == "notify":
            outcome: Outcome = "grouped" if self._grouper.add(position, violation) else "duplicate"
        else:
            outcome = decision
            self._ledger.settle([position])
        self._count(outcome)
        return outcome

    def skip(self, position: Position, outcome: Outcome = "undecodable") -> None:
        """A record deliberately not posted (it could not be decoded): settle it now."""
        self._ledger.read(position)
        self._ledger.settle([position])
        self._count(outcome)

    # -- output --------------------------------------------------------------------------
    def flush(self, *, force: bool = False) -> int:
        """Post due groups (all when `force`) within the rate limit; return how many got through."""
        posted = 0
        for group in self._grouper.due(force=force):
            if not self._limiter.available():
                # Counted once per message held back, not once per round of the loop.
                if not group.held_back:
                    group.held_back = True
                    self.metrics.rate_limited.inc()
                continue
            self._limiter.record()
            if self._post(group):
                posted += 1
        self.metrics.pending.set(self._grouper.pending)
        return posted

    def _post(self, group: ViolationGroup) -> bool:
        """Post one group; True when delivered. A rejected group is settled all the same."""
        rule, service = group.key
        delivered = False
        try:
            self.poster.post(render(group))
        except WebhookUnavailable as exc:
            self.metrics.failures.labels(reason="unavailable").inc()
            log.warning(
                "notification for rule %s in %s postponed %.0f s: %s",
                rule,
                service,
                self.config.unavailable_cooldown_s,
                exc,
            )
            self._grouper.postpone(group, self.config.unavailable_cooldown_s)
            return False
        except WebhookRejected as exc:
            # Resending the same payload to the same URL cannot succeed; holding the offsets
            # back would stall every later violation behind this one. The drop is counted
            # (alert DuaNotifierFailing) and the violations stay queryable in ClickHouse.
            self.metrics.failures.labels(reason="rejected").inc()
            log.error(  # noqa: TRY400 - the cause is in the message; a traceback adds nothing
                "notification for rule %s in %s dropped (%d violations): %s",
                rule,
                service,
                group.count,
                exc,
            )
        else:
            delivered = True
            self.metrics.posted.inc()
            log.info("posted %d violations of rule %s in %s", group.count, rule, service)
        self._grouper.remove(group)
        self._ledger.settle(group.positions)
        return delivered

    # -- offsets -------------------------------------------------------------------------
    def committable(self) -> dict[TopicPartition, int]:
        """Per partition, the offset to commit now (only those that moved)."""
        return self._ledger.committable()

    def committed(self, positions: dict[TopicPartition, int]) -> None:
        """Kafka accepted these commits."""
        self._ledger.committed(positions)

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Partitions revoked by a rebalance; unposted members of them will be redelivered."""
        self._ledger.forget(partitions)

    # -- state ---------------------------------------------------------------------------
    def next_due_in(self) -> float | None:
        """Seconds until a group is due, None when no group is open."""
        return self._grouper.next_due_in()

    @property
    def pending(self) -> int:
        """Records waiting in open groups."""
        return self._grouper.pending

    @property
    def open_groups(self) -> int:
        return len(self._grouper)

    def _count(self, outcome: Outcome) -> None:
        self.metrics.violations.labels(outcome=outcome).inc()
