"""Consent granted too late to count: findings of consent-missing rules that may be false.

A consent-missing rule (rule 16, `linkable_provision_without_consent`) fires when a consent
was *not* in force at the access's time. The grace (`hold.py`) waits for a consent change
produced just before an access; a change that reaches the consent topic's log later than that
(its producer retried through a leader election, or spooled) cannot be waited for: the access
was judged without it, and its finding stands (a Violation is never retracted). The re-check
(`recheck.py`) covers the other direction only: an opt-out found late makes a violation.

So such a change is made recognisable: a consent change applied more than the grace after it
happened that grants, as of its own time, a flag a consent-missing rule reads is counted
(`dua_processor_late_consent_grants_total`, by flag). Each is an upper bound of one possibly
false finding per access of that subject dated after it and judged before it arrived: review
the subject's findings of that rule from the change's time on (README.md, "Consent granted
after the grace").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dua_policy import Policy
from dua_policy.stateful import consent_in_force

CONSENT_MISSING_KIND = "consent_missing"  # the policy rule kind whose flag must be granted


def consent_missing_flags(policy: Policy) -> frozenset[str]:
    """The consent flags the policy's consent-missing rules read."""
    return frozenset(
        str(rule.params["flag"]) for rule in policy.rules if rule.kind == CONSENT_MISSING_KIND
    )


def late_grants(  # noqa: PLR0917 - one consent change and what it is judged against
    change: Mapping[str, Any],
    change_ms: int,
    before: Mapping[str, Any] | None,
    flags: Iterable[str],
    now_ms: int,
    grace_ms: int,
) -> list[str]:
    """The `flags` a consent change dated `change_ms`, applied at `now_ms`, grants later than
    `grace_ms` after it happened: set by it and not by the consent in force before it at its
    time (`before`: the subject's consent value before the change)."""
    if now_ms - change_ms <= grace_ms:
        return []  # within the grace: an access it precedes was held until it arrived
    prior = consent_in_force(before, change_ms)
    return [flag for flag in flags if change.get(flag) and not (prior and prior.get(flag))]
