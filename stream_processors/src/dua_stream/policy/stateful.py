"""The two stateful rule kinds: opted-out consent, and re-identification over a window."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

from dua_schemas import CONSENT_FLAGS, ConsentChange, DataAccessEvent
from dua_stream.policy.state import RuleState, consent_key, reidentification_key

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND: Final = timedelta(milliseconds=1)


def epoch_ms(moment: datetime) -> int:
    """Exact epoch milliseconds of an aware datetime (no float rounding)."""
    return (moment - _EPOCH) // _MILLISECOND


def record_consent(change: ConsentChange, state: RuleState) -> None:
    """Keep the subject's latest consent change; an older one arriving late is ignored."""
    key = consent_key(change["subject_id"])
    at = epoch_ms(change["occurred_at"])
    known = state.get(key)
    if known is not None and known.get("occurred_at", 0) > at:
        return
    value: dict[str, Any] = {"occurred_at": at}
    for flag in CONSENT_FLAGS:
        value[flag] = bool(change[flag])
    state.put(key, value)


def opted_out(event: DataAccessEvent, flag: str, state: RuleState) -> bool:
    """The flag is on the event, or the subject's latest consent change sets it."""
    if cast(Mapping[str, bool], event["consent"])[flag]:
        return True
    subject = event["subject_id"]
    if subject is None:
        return False
    known = state.get(consent_key(subject))
    return bool(known and known.get(flag))


def observe_reidentification(
    event: DataAccessEvent,
    linkable: bool,
    identifying: bool,
    window: timedelta,
    state: RuleState,
) -> bool:
    """Remember this access; True when it completes a pattern that should be reported.

    The pattern: one actor touches linkable elements (pseudonymized informative data) and
    identifying elements (personal data) of one subject within `window` of each other. It
    is reported once per window per actor and subject.
    """
    subject = event["subject_id"]
    if subject is None or not (linkable or identifying):
        return False
    key = reidentification_key(subject)
    at = epoch_ms(event["occurred_at"])
    span = window // _MILLISECOND
    actor = f"{event['actor']['kind']}:{event['actor']['id']}"
    known = state.get(key) or {}
    entry = dict(known.get(actor) or {})
    if linkable:
        entry["linkable_at"] = max(at, entry.get("linkable_at", at))
    if identifying:
        entry["identifying_at"] = max(at, entry.get("identifying_at", at))
    # the other half of the pattern: this very access when it is both, else the latest seen
    other_side = "identifying_at" if linkable else "linkable_at"
    other = at if linkable and identifying else entry.get(other_side)
    fire = _within(at, other, span) and not _within(at, entry.get("fired_at"), span)
    if fire:
        entry["fired_at"] = at
    updated = {
        name: value
        for name, value in known.items()
        if name != actor and max(value.values(), default=at) >= at - span
    }
    updated[actor] = entry
    state.put(key, updated)
    return fire


def _within(first: int | None, second: int | None, span: int) -> bool:
    return first is not None and second is not None and abs(first - second) <= span
