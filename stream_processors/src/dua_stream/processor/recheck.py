"""Accesses kept for a consent re-check, and the re-check a consent change makes.

Consent and raw are different topics: an opt-out may be applied after an access it precedes
(a lagging partition, a producer that spooled for an hour). So an access on which an
opted-out rule did not fire is kept under `judged:<subject>` in the consent table
(changelog-backed): `{"a": [[occurred_ms, judged_ms, payload in base64], ...], "p":
partition}`, in the order judged, at most `JUDGED_KEPT` per subject (the oldest dropped
first), the same access only once; the key expires with its partition's event time
(`TableState.expire`).

The consent changes of a batch that alter a subject's history re-check its kept accesses
dated at or after the first of them, against the history before and after them all: each one
that fires now gets its Violation then, with the violation id it would have had on time, and
is marked with the time of the change that made it fire (a fourth item). Re-applied
(at-least-once), that change makes the marked violations again, so a crash between the state
and the violation loses neither; the repeats carry the same id and are removed downstream.

The native access path writes the same entries (`stream_processors/native`), byte for byte.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

from dua_policy import Engine, Verdict
from dua_policy.state import RuleState, consent_key
from dua_policy.stateful import consent_in_force
from dua_schemas import DataAccessEvent

JUDGED_PREFIX: Final = "judged:"
JUDGED_KEPT: Final = 32  # accesses kept per subject for a re-check
ENTRIES: Final = "a"
PARTITION: Final = "p"  # the input partition the key's changelog records go to


def judged_key(subject_id: str) -> str:
    """The key of a subject's accesses kept for a consent re-check."""
    return JUDGED_PREFIX + subject_id


def remember(  # noqa: PLR0917 - what is kept of one access
    state: RuleState,
    subject_id: str,
    occurred_ms: int,
    judged_ms: int,
    payload: bytes,
    partition: int,
) -> None:
    """Keep an access an opted-out rule did not fire on (`Verdict.awaits_consent`)."""
    key = judged_key(subject_id)
    text = base64.b64encode(payload).decode("ascii")
    known = state.get(key)
    entries: list[list[Any]] = []
    if known is not None:
        kept = known.get(ENTRIES)
        if isinstance(kept, list):
            entries = kept
    if any(len(entry) > 2 and entry[2] == text for entry in entries):
        return  # delivered again: kept once
    entries.append([occurred_ms, judged_ms, text])
    if len(entries) > JUDGED_KEPT:
        del entries[0]
    state.put(key, {ENTRIES: entries, PARTITION: partition})


def recheck(  # noqa: PLR0917 - the re-check's inputs, each needed
    engine: Engine,
    state: RuleState,
    subject_id: str,
    before: Mapping[str, Any] | None,
    changed: bool,
    change_times: Collection[int],
    retention_ms: int,
    decode: Callable[[bytes], DataAccessEvent | None],
) -> list[tuple[Verdict, int]]:
    """The violations consent changes dated `change_times` make of the subject's kept
    accesses, each with the time (epoch ms) the access was judged; `before`: the subject's
    consent value before the changes; `changed`: whether they changed it (else: repeats)."""
    key = judged_key(subject_id)
    known = state.get(key)
    kept = known.get(ENTRIES) if known is not None else None
    if not isinstance(kept, list) or not kept:
        return []
    after = state.get(consent_key(subject_id))
    first = min(change_times)
    newest = after.get("occurred_at", first) if after is not None else first
    horizon = newest - retention_ms
    found: list[tuple[Verdict, int]] = []
    entries: list[list[Any]] = []
    for entry in kept:
        at, judged, text = entry[0], entry[1], entry[2]
        if at < horizon:
            continue  # past the retention window: dropped
        entries.append(entry)
        again = len(entry) > 3 and entry[3] in change_times
        if at < first or not (changed or again):
            continue  # before the changes, its consent is not theirs
        event = decode(base64.b64decode(text))
        if event is None:
            continue
        verdict, _ = engine.recheck(event, before if changed else None, after)
        if verdict.violations:
            found.append((verdict, judged))
            if not again:
                by = consent_in_force(after, at)
                entries[-1] = [at, judged, text, by.get("occurred_at") if by else None]
    if entries != kept:
        state.put(key, {ENTRIES: entries, PARTITION: known.get(PARTITION) if known else None})
    return found
