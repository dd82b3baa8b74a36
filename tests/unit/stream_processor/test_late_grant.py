"""A consent a consent-missing rule reads, granted after the grace, is counted as such."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from dua_policy import Engine, load_policy
from dua_policy.state import consent_key
from dua_schemas import WireCodec, to_millis
from dua_stream.processor import BatchProcessor, BatchResult, RecordCodec, TableState
from dua_stream.processor.hold import CONSENT_GRACE_MS
from dua_stream.processor.late_grant import consent_missing_flags, late_grants

from .conftest import CHANGELOGS, T0, TOPICS, Message, ad_event, use_backend

SUBJECT = "e" * 64
LINK = "third_party_link_consent"
RULE = "linkable_provision_without_consent"
T0_MS = to_millis(T0)


@pytest.fixture(params=["native", "python"])
def native(request: pytest.FixtureRequest) -> bool:
    return use_backend(request.param, modules=("dua_schemas_native", "dua_stream_native"))


def change(at: datetime, *, link: bool = True) -> dict[str, Any]:
    return {
        "subject_id": SUBJECT,
        "occurred_at": at,
        "targeting_opt_out": False,
        "publication_consent": False,
        "payroll_other_use_consent": False,
        LINK: link,
    }


def test_the_default_policy_reads_the_link_consent_in_rule_16_only() -> None:
    """The flags of consent-missing rules are rule 16's link consent, not opt-out flags."""
    assert consent_missing_flags(load_policy()) == frozenset({LINK})


def test_a_grant_within_the_grace_is_not_late() -> None:
    """Applied `grace_ms` after it happened: an access it precedes was still held."""
    grants = late_grants(change(T0), T0_MS, None, {LINK}, T0_MS + CONSENT_GRACE_MS, 250)
    assert grants == []


def test_a_grant_after_the_grace_is_late() -> None:
    """Applied a millisecond past the grace, a change setting the flag grants it late."""
    late = T0_MS + CONSENT_GRACE_MS + 1
    assert late_grants(change(T0), T0_MS, None, {LINK}, late, CONSENT_GRACE_MS) == [LINK]


def test_a_late_change_that_grants_nothing_new_is_not_counted() -> None:
    """The flag already in force before the change at its time, or not set by it: no grant."""
    before = {"occurred_at": T0_MS - 1_000, LINK: True}
    late = T0_MS + 5_000
    assert late_grants(change(T0), T0_MS, before, {LINK}, late, CONSENT_GRACE_MS) == []
    assert late_grants(change(T0, link=False), T0_MS, None, {LINK}, late, CONSENT_GRACE_MS) == []


def test_a_grant_dated_before_the_consent_that_revoked_it_is_judged_at_its_own_time() -> None:
    """A revocation known at T0+1s does not hide a grant dated T0 that arrives late."""
    before = {"occurred_at": T0_MS + 1_000, LINK: False}
    late = T0_MS + 5_000
    assert late_grants(change(T0), T0_MS, before, {LINK}, late, CONSENT_GRACE_MS) == [LINK]


def _linked_ad(wire: WireCodec, at: datetime, offset: int) -> Message:
    event = ad_event(SUBJECT) | {
        "occurred_at": at,
        "destination": {"kind": "AD_PLATFORM", "name": "google-ads"},
    }
    return Message("raw", 0, offset, SUBJECT.encode(), wire.encode("DataAccessEvent", event))


def _consent(wire: WireCodec, at: datetime, offset: int, *, link: bool = True) -> Message:
    value = wire.encode("ConsentChange", change(at, link=link))
    return Message("consent", 0, offset, SUBJECT.encode(), value)


def _rules(result: BatchResult) -> list[str]:
    return [rule for (rule, _, _, _), n in result.violations.items() for _ in range(n)]


def test_a_link_consent_arriving_after_its_access_was_judged_is_counted(
    native: bool, codec: RecordCodec, wire: WireCodec
) -> None:
    """The access after the consent is judged first (the consent is not there yet): rule 16
    fires, and the consent arriving seconds later is counted as a late grant, once (its
    repeat changes nothing); a grant applied within the grace counts nothing."""
    state = TableState({}, {})
    processor = BatchProcessor(
        codec, TOPICS, state, lambda: Engine(load_policy()), CHANGELOGS, native=native
    )
    judged = processor.process([], [_linked_ad(wire, T0 + timedelta(milliseconds=1), 0)], T0)
    assert _rules(judged) == [RULE]  # the false finding the product cannot retract
    arrived = T0 + timedelta(seconds=3)
    late = processor.process([_consent(wire, T0, 0)], [], arrived)
    assert late.late_grants == {LINK: 1}
    assert late.violations == {}  # nothing is retracted or made
    assert state.get(consent_key(SUBJECT)) is not None
    again = processor.process([_consent(wire, T0, 0)], [], arrived + timedelta(seconds=1))
    assert again.late_grants == {}
    revoked = T0 + timedelta(seconds=5)
    processor.process([_consent(wire, revoked, 1, link=False)], [], revoked)
    granted = T0 + timedelta(seconds=10)
    in_time = processor.process([_consent(wire, granted, 2)], [], granted + timedelta(seconds=0.1))
    assert in_time.consent_changes == 1
    assert in_time.late_grants == {}
