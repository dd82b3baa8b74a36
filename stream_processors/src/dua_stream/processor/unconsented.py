"""Findings made for want of a consent, and the consent changes that contradict them.

A consent-missing rule (rule 16, `linkable_provision_without_consent`) fires when a consent
was *not* in force at the access's time. The grace (`hold.py`) waits for a change produced
just before an access, but not for one that reaches the consent topic's log later than that
(its producer retried through a leader election, or spooled): the access was judged without
it, and its Violation stands (a Kafka topic cannot take a message back). The re-check
(`recheck.py`) covers the other direction only: an opt-out found late makes a violation.

So such findings are made recognisable. Each is kept under `unconsented:<subject>` in the
consent table (changelog-backed, in the form of `judged:` values, so the same expiry applies):
`{"a": [[occurred_ms, judged_ms, violation_id, rule, flag], ...], "p": partition}`, at most
`JUDGED_KEPT` per subject (the oldest dropped first), each violation once. A batch's consent
changes that alter the subject's history and grant, as of a kept finding's time, the flag it
lacked contradict it: it is counted (`dua_processor_contradicted_violations_total`, by rule),
logged with its violation id, and no longer kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from dua_policy import Policy
from dua_policy.state import RuleState, consent_key
from dua_policy.stateful import consent_in_force
from dua_stream.processor.recheck import ENTRIES, JUDGED_KEPT, PARTITION

UNCONSENTED_PREFIX: Final = "unconsented:"
CONSENT_MISSING_KIND: Final = "consent_missing"  # the policy rule kind whose flag is needed


def unconsented_key(subject_id: str) -> str:
    """The key of a subject's findings of consent-missing rules."""
    return UNCONSENTED_PREFIX + subject_id


def consent_missing_flags(policy: Policy) -> dict[str, str]:
    """Rule id -> the consent flag it needs, for the policy's consent-missing rules."""
    return {
        rule.id: str(rule.params["flag"])
        for rule in policy.rules
        if rule.kind == CONSENT_MISSING_KIND
    }


def keep_finding(  # noqa: PLR0917 - what is kept of one finding
    state: RuleState,
    subject_id: str,
    occurred_ms: int,
    judged_ms: int,
    violation_id: str,
    rule: str,
    flag: str,
    partition: int,
) -> None:
    """Keep a finding a consent-missing rule made on an access of the subject."""
    key = unconsented_key(subject_id)
    known = state.get(key)
    kept = known.get(ENTRIES) if known is not None else None
    entries: list[list[Any]] = kept if isinstance(kept, list) else []
    if any(len(entry) > 2 and entry[2] == violation_id for entry in entries):
        return  # delivered again: kept once
    entries = [*entries, [occurred_ms, judged_ms, violation_id, rule, flag]]
    state.put(key, {ENTRIES: entries[-JUDGED_KEPT:], PARTITION: partition})


def contradicted(state: RuleState, subject_id: str) -> list[tuple[str, str, int]]:
    """The subject's kept findings its consent history (as it is now) contradicts: the flag
    each lacked is in force at its access's time. Each as (rule, violation id, judged ms);
    they are no longer kept."""
    key = unconsented_key(subject_id)
    known = state.get(key)
    kept = known.get(ENTRIES) if known is not None else None
    if not isinstance(kept, list) or not kept:
        return []
    history: Mapping[str, Any] | None = state.get(consent_key(subject_id))
    found: list[tuple[str, str, int]] = []
    entries: list[list[Any]] = []
    for entry in kept:
        at, judged, violation, rule, flag = entry
        then = consent_in_force(history, at)
        if then and then.get(flag):
            found.append((rule, violation, judged))
        else:
            entries.append(entry)
    if found:
        partition = known.get(PARTITION) if known is not None else None
        state.put(key, {ENTRIES: entries, PARTITION: partition})
    return found
