"""Findings of a consent-missing rule (rule 16) that a consent change arriving after them
contradicts are counted, logged by violation id, and no longer kept.

Every case runs on the native and the Python path side by side (`Pair`, as in
test_fastpath.py): the same outputs byte for byte, counts and state.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from dua_policy import Engine, load_policy
from dua_schemas import WireCodec, to_millis
from dua_stream.processor import BatchResult, RecordCodec
from dua_stream.processor.recheck import JUDGED_KEPT
from dua_stream.processor.unconsented import consent_missing_flags, unconsented_key

from .conftest import T0, Message, ad_event, use_backend
from .test_fastpath import Pair

SUBJECT = "e" * 64
LINK = "third_party_link_consent"
RULE = "linkable_provision_without_consent"


@pytest.fixture(params=["native", "python"])
def native(request: pytest.FixtureRequest) -> bool:
    return use_backend(request.param, modules=("dua_schemas_native", "dua_stream_native"))


@pytest.fixture
def pair(native: bool, codec: RecordCodec) -> Pair:
    return Pair(codec, Engine(load_policy()))


class Feed:
    """Linked ads and link consents of one subject, encoded, with offsets counted."""

    def __init__(self, wire: WireCodec) -> None:
        self.wire = wire
        self.offset = 0

    def ad(self, at: datetime) -> Message:
        self.offset += 1
        event = ad_event(SUBJECT) | {
            "occurred_at": at,
            "destination": {"kind": "AD_PLATFORM", "name": "google-ads"},
        }
        value = self.wire.encode("DataAccessEvent", event)
        return Message("raw", 0, self.offset, SUBJECT.encode(), value)

    def consent(self, at: datetime, *, link: bool = True) -> Message:
        self.offset += 1
        change: dict[str, Any] = {
            "subject_id": SUBJECT,
            "occurred_at": at,
            "targeting_opt_out": False,
            "publication_consent": False,
            "payroll_other_use_consent": False,
            LINK: link,
        }
        value = self.wire.encode("ConsentChange", change)
        return Message("consent", 0, self.offset, SUBJECT.encode(), value)


def rules(result: BatchResult) -> list[str]:
    return sorted(rule for (rule, _, _, _), n in result.violations.items() for _ in range(n))


def kept(pair: Pair) -> list[Any]:
    value = pair.states[0].get(unconsented_key(SUBJECT))
    return [] if value is None else list(value["a"])


def test_the_default_policy_needs_the_link_consent_for_rule_16_only() -> None:
    """The consent-missing rules of the shipped policy: rule 16 and its link consent."""
    assert consent_missing_flags(load_policy()) == {RULE: LINK}


def test_a_link_consent_arriving_after_its_access_was_judged_contradicts_the_finding(
    pair: Pair, wire: WireCodec, caplog: pytest.LogCaptureFixture
) -> None:
    """The consent dated before the ad arrives after the ad was judged without it: the
    finding is counted as contradicted and logged by its violation id, no violation is made
    or retracted, and its repeat (at-least-once) counts nothing more."""
    feed = Feed(wire)
    judged = pair.process([], [feed.ad(T0 + timedelta(milliseconds=1))], T0)
    assert rules(judged) == [RULE]
    (violation,) = [
        wire.decode(o.value).record for o in judged.outputs if o.topic == "violations" and o.value
    ]
    assert [entry[2] for entry in kept(pair)] == [violation["violation_id"]]
    consent = feed.consent(T0)
    late = pair.process([consent], [], T0 + timedelta(seconds=3))
    assert late.contradicted == {RULE: 1}
    assert late.violations == {}
    assert kept(pair) == []
    assert violation["violation_id"] in caplog.text
    assert pair.process([consent], [], T0 + timedelta(seconds=4)).contradicted == {}


def test_a_consent_dated_after_the_access_does_not_contradict_it(
    pair: Pair, wire: WireCodec
) -> None:
    """The consent came after the access: the finding was right, and stays kept; a revocation
    does not contradict anything either."""
    feed = Feed(wire)
    pair.process([], [feed.ad(T0)], T0)
    after = T0 + timedelta(milliseconds=1)
    assert pair.process([feed.consent(after)], [], T0 + timedelta(seconds=3)).contradicted == {}
    revoked = T0 + timedelta(seconds=5)
    result = pair.process([feed.consent(revoked, link=False)], [], revoked)
    assert result.contradicted == {}
    assert len(kept(pair)) == 1


def test_a_consent_applied_before_its_access_makes_no_finding_to_contradict(
    pair: Pair, wire: WireCodec
) -> None:
    """The consent in the access's batch (or before it) is in force when it is judged."""
    feed = Feed(wire)
    result = pair.process([feed.consent(T0)], [feed.ad(T0)], T0)
    assert rules(result) == []
    assert kept(pair) == []


def test_only_the_findings_the_consent_covers_are_contradicted(pair: Pair, wire: WireCodec) -> None:
    """Two ads judged without consent, at T0 and T0+2s, the same one delivered twice; a
    consent dated T0+1s, revoked at T0+3s, arriving late: only the second ad's finding is
    contradicted, once."""
    feed = Feed(wire)
    first, second = feed.ad(T0), feed.ad(T0 + timedelta(seconds=2))
    pair.process([], [first, second], T0 + timedelta(seconds=2))
    pair.process([], [second], T0 + timedelta(seconds=2))  # delivered again
    assert len(kept(pair)) == 2
    changes = [
        feed.consent(T0 + timedelta(seconds=1)),
        feed.consent(T0 + timedelta(seconds=3), link=False),
    ]
    result = pair.process(changes, [], T0 + timedelta(seconds=9))
    assert result.contradicted == {RULE: 1}
    assert [entry[0] for entry in kept(pair)] == [to_millis(T0)]


def test_findings_kept_are_bounded_and_expire_with_the_consent_retention(
    pair: Pair, wire: WireCodec
) -> None:
    """At most `JUDGED_KEPT` per subject, the oldest dropped; gone once older than the
    retention before their partition's event time (a tombstone to produce)."""
    feed = Feed(wire)
    ads = [feed.ad(T0 + timedelta(seconds=i)) for i in range(JUDGED_KEPT + 3)]
    pair.process([], ads, T0 + timedelta(minutes=1))
    assert kept(pair)[0][0] == to_millis(T0 + timedelta(seconds=3))
    assert len(kept(pair)) == JUDGED_KEPT
    late = T0 + timedelta(days=40)
    pair.process([], [Message("raw", 0, 999, b"x", None)], late)  # a tombstone: rejected
    pair.states[0].at(0, to_millis(late))
    pair.states[1].at(0, to_millis(late))
    pair.expire(10 * 60 * 1000)
    assert kept(pair) == []
