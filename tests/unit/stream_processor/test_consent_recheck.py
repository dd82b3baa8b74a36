"""Consent as it stood when the access happened, whatever order the two topics arrive in.

Every case runs on the native and the Python path side by side (`Pair`, as in
test_fastpath.py): the same outputs byte for byte, counts and state.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest

from dua_policy import Engine, load_policy, violation_id
from dua_schemas import WireCodec
from dua_stream.processor import BatchResult, RecordCodec, TableState
from dua_stream.processor.hold import CONSENT_GRACE_MS
from dua_stream.processor.recheck import JUDGED_KEPT

from .conftest import T0, Message, ad_event, opt_out, use_backend
from .test_fastpath import Pair

SUBJECT = "c" * 64
RULE = "targeting_opted_out"


@pytest.fixture(params=["native", "python"])
def native(request: pytest.FixtureRequest) -> bool:
    return use_backend(request.param, modules=("dua_schemas_native", "dua_stream_native"))


class Feed:
    """Ads and consent changes of one subject, encoded, with offsets counted."""

    def __init__(self, wire: WireCodec) -> None:
        self.wire = wire
        self.offset = 0

    def ad(self, at: datetime, event_id: str | None = None) -> Message:
        self.offset += 1
        event = ad_event(SUBJECT) | {"occurred_at": at}
        if event_id is not None:
            event["event_id"] = event_id
        return Message(
            "raw", 0, self.offset, SUBJECT.encode(), self.wire.encode("DataAccessEvent", event)
        )

    def consent(self, at: datetime, *, out: bool = True) -> Message:
        self.offset += 1
        change = opt_out(SUBJECT) | {"occurred_at": at, "targeting_opt_out": out}
        return Message(
            "consent", 0, self.offset, SUBJECT.encode(), self.wire.encode("ConsentChange", change)
        )


def violations(result: BatchResult, wire: WireCodec) -> list[dict[str, Any]]:
    return [
        wire.decode(output.value).record
        for output in result.outputs
        if output.topic == "violations" and output.value is not None
    ]


def event_id_of(message: Message, wire: WireCodec) -> str:
    assert message.value is not None
    return str(wire.decode(message.value).record["event_id"])


@pytest.fixture
def pair(native: bool, codec: RecordCodec) -> Pair:
    engine = Engine(load_policy())
    made = Pair(codec, engine)
    # compile the ad's shape first (a first sight is Python's on both sides)
    feed = Feed(WireCodec())
    made.process([], [feed.ad(T0 - timedelta(days=2))], T0 - timedelta(days=2))
    return made


def test_an_access_is_judged_by_the_consent_in_force_at_its_time(
    pair: Pair, wire: WireCodec
) -> None:
    """An opt-out at T: an ad at T-1s is compliant, ads at T (same millisecond) and after are
    violations, even though all of them are processed after the opt-out."""
    feed = Feed(wire)
    pair.process([feed.consent(T0)], [], T0)
    ads = [feed.ad(T0 - timedelta(seconds=1)), feed.ad(T0), feed.ad(T0 + timedelta(seconds=1))]
    result = pair.process([], ads, T0 + timedelta(seconds=2))
    found = violations(result, wire)
    assert [v["event_id"] for v in found] == [event_id_of(m, wire) for m in ads[1:]]
    assert all(v["detected_late_ms"] == 0 for v in found)


def test_an_opt_out_applied_after_the_access_finds_it_with_the_on_time_id(
    pair: Pair, wire: WireCodec
) -> None:
    """The opt-out precedes the ad but arrives in a later batch (within the grace): the
    violation comes with the consent change, with the id it would have had on time."""
    feed = Feed(wire)
    ad = feed.ad(T0 + timedelta(milliseconds=5))
    first = pair.process([], [ad], T0 + timedelta(milliseconds=10))
    assert not violations(first, wire)
    result = pair.process([feed.consent(T0)], [], T0 + timedelta(milliseconds=50))
    (found,) = violations(result, wire)
    engine = pair.engine
    assert found["violation_id"] == violation_id(event_id_of(ad, wire), RULE, engine.policy_version)
    assert found["detected_late_ms"] == 0  # within the grace: the race, not lateness
    assert not result.late
    assert sum(result.violations.values()) == 1


def test_a_change_after_the_grace_is_marked_late(pair: Pair, wire: WireCodec) -> None:
    """An opt-out spooled for an hour: the violation comes then, marked with the delay."""
    feed = Feed(wire)
    ad = feed.ad(T0 + timedelta(minutes=1))
    pair.process([], [ad], T0 + timedelta(minutes=1))
    later = T0 + timedelta(hours=1, minutes=1)
    result = pair.process([feed.consent(T0)], [], later)
    (found,) = violations(result, wire)
    assert found["detected_late_ms"] == 3_600_000
    assert found["detected_late_ms"] > CONSENT_GRACE_MS
    assert result.late == {RULE: 1}
    # applied again (at-least-once): the same violation again, never a new one
    again = pair.process([feed.consent(T0)], [], later + timedelta(seconds=1))
    assert [v["violation_id"] for v in violations(again, wire)] == [found["violation_id"]]


def test_an_opt_in_after_an_opt_out_keeps_the_access_between(pair: Pair, wire: WireCodec) -> None:
    """Opt-out at T, opt-in at T+10s, arriving after all the ads: the ad between is a
    violation, the ads before and after are not; a later opt-in clears nothing found."""
    feed = Feed(wire)
    ads = [feed.ad(T0 - timedelta(seconds=5)), feed.ad(T0 + timedelta(seconds=5))]
    ads.append(feed.ad(T0 + timedelta(seconds=15)))
    pair.process([], ads, T0 + timedelta(seconds=20))
    result = pair.process(
        [feed.consent(T0), feed.consent(T0 + timedelta(seconds=10), out=False)],
        [],
        T0 + timedelta(seconds=21),
    )
    assert [v["event_id"] for v in violations(result, wire)] == [event_id_of(ads[1], wire)]
    # an opt-in dated before the ad between, arriving later still, does not clear it
    quiet = pair.process(
        [feed.consent(T0 + timedelta(seconds=1), out=False)], [], T0 + timedelta(seconds=22)
    )
    assert not violations(quiet, wire)


def test_opt_in_and_out_in_reverse_order_give_the_same_answer(pair: Pair, wire: WireCodec) -> None:
    """The opt-in arrives before the older opt-out: the history is in time order, not in
    arrival order."""
    feed = Feed(wire)
    between = feed.ad(T0 + timedelta(seconds=5))
    after = feed.ad(T0 + timedelta(seconds=15))
    pair.process([feed.consent(T0 + timedelta(seconds=10), out=False)], [], T0)
    pair.process([], [between, after], T0 + timedelta(seconds=20))
    result = pair.process([feed.consent(T0)], [], T0 + timedelta(seconds=21))
    assert [v["event_id"] for v in violations(result, wire)] == [event_id_of(between, wire)]
    # with a history the native path leaves the subject to Python, with the same outputs
    more = pair.process([], [feed.ad(T0 + timedelta(seconds=7))], T0 + timedelta(seconds=22))
    assert more.native == 0
    assert len(violations(more, wire)) == 1


def test_a_redelivered_access_is_kept_once_and_the_kept_are_bounded(
    pair: Pair, wire: WireCodec
) -> None:
    """The same access twice is one entry; past the bound, the oldest is dropped."""
    feed = Feed(wire)
    ad = feed.ad(T0)
    pair.process([], [ad, ad], T0)
    kept = pair.states[0]._consent["judged:" + SUBJECT]["a"]
    assert len(kept) == 2  # the one the fixture compiled the shape with, and this one
    ads = [feed.ad(T0 + timedelta(seconds=i)) for i in range(1, JUDGED_KEPT + 5)]
    result = pair.process([], ads, T0 + timedelta(minutes=1))
    assert result.native == len(ads)
    assert len(pair.states[0]._consent["judged:" + SUBJECT]["a"]) == JUDGED_KEPT


@pytest.mark.parametrize(
    "stored",
    [
        {"a": "not a list"},
        {"a": [["short"]]},
        {"a": [[0, 0, 7]]},
        {"a": [(0, 0, "tuple")]},
        {"b": []},
        ["not", "a", "dict"],
    ],
)
def test_kept_accesses_of_an_unexpected_form_are_left_to_python(
    pair: Pair, wire: WireCodec, stored: Any
) -> None:
    """A restored value may be anything JSON holds: the native path reads it no other way
    than Python does (the comparison is made by `Pair`)."""
    for state in pair.states:
        state._consent["judged:" + SUBJECT] = copy.deepcopy(stored)  # one each: changed in place
    feed = Feed(wire)
    pair.process([], [feed.ad(T0)], T0)
    pair.process([feed.consent(T0 - timedelta(seconds=1))], [], T0 + timedelta(seconds=1))


def test_kept_accesses_expire_after_the_retention() -> None:
    """A subject's kept accesses go once the newest is older than its partition's event time
    minus the retention, with a tombstone on that partition; newer ones and odd forms stay."""
    state = TableState({}, {})
    state.at(2, 10_000)
    state.put("judged:old", {"a": [[1_000, 1_000, "x"], [2_000, 2_000, "y"]], "p": 2})
    state.put("judged:new", {"a": [[1_000, 1_000, "x"], [9_500, 9_500, "y"]], "p": 2})
    state.put("judged:odd", {"a": "not a list"})
    state.put("consent:old", {"occurred_at": 0, "targeting_opt_out": True})
    state.drain_changes()
    assert state.expire(60_000, retention_ms=5_000) == 1
    assert set(state._consent) == {"judged:new", "judged:odd", "consent:old"}
    (tombstone,) = state.drain_changes()
    assert (tombstone.table, tombstone.value, tombstone.partition) == ("consent", None, 2)
