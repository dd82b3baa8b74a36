"""The stateful rule kinds: consent in force (opted out, consent missing), and
re-identification over a window."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

from dua_policy.state import REIDENTIFICATION_PREFIX, RuleState, consent_key
from dua_schemas import CONSENT_CHANGE_FLAGS, ConsentChange, DataAccessEvent, to_millis

PRUNE_ABOVE: Final = 4  # actors per subject kept before entries past the window are dropped
CONSENT_RETENTION_MS: Final = 30 * 24 * 3600 * 1000  # consent history kept: 30 days
HISTORY_KEPT: Final = 64  # consent changes kept per subject at most
HISTORY: Final = "history"  # the older changes of a subject's consent value


def record_consent(
    change: ConsentChange, state: RuleState, retention_ms: int = CONSENT_RETENTION_MS
) -> bool:
    """Add the change to the subject's consent history; True when the history changed.

    The history is kept in `occurred_at` order whatever order the changes arrive in (a late,
    older change takes its place in the past, it does not override a newer one). Changes
    older than `retention_ms` before the newest are dropped, except the one still in force at
    that horizon; at most `HISTORY_KEPT` are kept. A repeat (at-least-once) changes nothing.
    """
    key = consent_key(change["subject_id"])
    entry: dict[str, Any] = {"occurred_at": to_millis(change["occurred_at"])}
    for flag in CONSENT_CHANGE_FLAGS:
        entry[flag] = bool(change.get(flag, False))
    known = state.get(key)
    if known is None:
        state.put(key, entry)
        return True
    changes = consent_history(known)
    if entry in changes:
        return False
    at = entry["occurred_at"]
    index = len(changes)
    while index and changes[index - 1].get("occurred_at", 0) > at:
        index -= 1
    changes.insert(index, entry)
    horizon = changes[-1].get("occurred_at", 0) - retention_ms
    while len(changes) > 1 and (
        len(changes) > HISTORY_KEPT or changes[1].get("occurred_at", 0) <= horizon
    ):
        del changes[0]
    value = dict(changes[-1])
    if len(changes) > 1:
        value[HISTORY] = changes[:-1]
    state.put(key, value)
    return True


def consent_history(known: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """A subject's consent changes, oldest first (the stored value: the newest change, with
    the older ones under `history`)."""
    if known is None:
        return []
    older = known.get(HISTORY)
    newest = {name: value for name, value in known.items() if name != HISTORY}
    return [*(older if isinstance(older, list) else ()), newest]


def consent_in_force(known: Mapping[str, Any] | None, at: int) -> Mapping[str, Any] | None:
    """The consent change in force at `at` (epoch ms): the newest one dated at or before it
    (a change takes effect in its own millisecond); None before the first one known."""
    if known is None:
        return None
    if known.get("occurred_at", 0) <= at:
        return known
    older = known.get(HISTORY)
    changes: list[Mapping[str, Any]] = older if isinstance(older, list) else []
    entry: Mapping[str, Any]
    for entry in reversed(changes):
        if entry.get("occurred_at", 0) <= at:
            return entry
    return None


def opted_out(event: DataAccessEvent, flag: str, state: RuleState) -> bool:
    """The flag is on the event, or the subject's consent in force when the access happened
    (its `occurred_at`) sets it (a flag the event cannot carry comes from the stream alone)."""
    if cast(Mapping[str, bool], event["consent"]).get(flag):
        return True
    subject = event["subject_id"]
    if subject is None:
        return False
    known = consent_in_force(state.get(consent_key(subject)), to_millis(event["occurred_at"]))
    return bool(known and known.get(flag))


def consent_given(event: DataAccessEvent, flag: str, state: RuleState) -> bool:
    """The subject's consent `flag` was in force when the access happened: on the event, or
    set by the consent change in force at its `occurred_at` (read as `opted_out` reads it)."""
    return opted_out(event, flag, state)


def observe_reidentification(
    event: DataAccessEvent,
    linkable: bool,
    identifying: bool,
    window_ms: int,
    state: RuleState,
) -> bool:
    """Remember this access; True when it completes a pattern that should be reported.

    The pattern: one actor touches linkable elements (pseudonymized informative data) and
    identifying elements (personal data) of one subject within `window_ms` of each other.
    It is reported once per window per actor and subject. The access that reported it is
    remembered (`fired_by`): delivered again (at-least-once), it reports it again, so its
    repeated tagged event says what the first one said instead of replacing it, downstream,
    with a copy that has no finding.
    """
    subject = event["subject_id"]
    if subject is None:
        return False
    key = REIDENTIFICATION_PREFIX + subject
    at = to_millis(event["occurred_at"])
    actor = event["actor"]
    name = actor["kind"] + ":" + actor["id"]
    # the value is changed in place and put back: a store may hand out its own object
    actors = state.get(key)
    if actors is None:
        actors = {}
    entry = actors.get(name)
    if entry is None:
        entry = actors[name] = {}
    if linkable:
        entry["linkable_at"] = max(at, entry.get("linkable_at", at))
    if identifying:
        entry["identifying_at"] = max(at, entry.get("identifying_at", at))
    # the other half of the pattern: this very access when it is both, else the latest seen
    other = (
        at
        if linkable and identifying
        else entry.get("identifying_at" if linkable else "linkable_at")
    )
    event_id = event["event_id"]
    if entry.get("fired_by") == event_id:
        fire = True  # a repeat of the access that made the finding
    else:
        fire = _within(at, other, window_ms) and not _within(at, entry.get("fired_at"), window_ms)
        if fire:
            entry["fired_at"] = at
            entry["fired_by"] = event_id
    if len(actors) > PRUNE_ABOVE:
        horizon = at - window_ms
        for stale in [n for n, e in actors.items() if _newest(e) < horizon]:
            del actors[stale]
    state.put(key, actors)
    return fire


def _newest(entry: dict[str, Any]) -> int:
    """An actor entry's newest time (the times only: `fired_by` is an event id)."""
    get = entry.get
    return max(get("linkable_at", 0), get("identifying_at", 0), get("fired_at", 0))  # type: ignore[no-any-return]


def _within(first: int | None, second: int | None, span: int) -> bool:
    return first is not None and second is not None and abs(first - second) <= span
