"""Properties over generated events: determinism, the fraud-investigation exception, and
rules that only grow with the elements accessed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dua_policy import Engine, MemoryState, load_policy
from dua_schemas import (
    ACTOR_KINDS,
    CONSENT_FLAGS,
    DESTINATION_KINDS,
    OPERATIONS,
    PROCESSING_STATES,
    DataAccessEvent,
    event_from_json,
)

POLICY = load_policy()  # module level: hypothesis reruns each test body many times
ENGINE = Engine(POLICY)
CATALOG = [e.code for e in ENGINE.policy.elements]
ELEMENTS = st.sampled_from([*CATALOG, "user.contact", "user.biometric.face", "device.imei"])
PURPOSES = st.sampled_from(
    [p.code for p in ENGINE.policy.purposes]
    + [None, "marketing.telesales", "fraud_prevention.chargebacks", "billing.invoices"]
)
SERVICES = st.sampled_from(
    ["zexy-enmusubi", "jalan", "rikunabi", "airwork-payroll", "partner-airline"]
)
FRAUD = st.sampled_from(["fraud_prevention.investigation", "fraud_prevention.chargebacks"])
MONOTONE_RULES = ("purpose_not_permitted", "personal_data_to_ad_platform", "unclassified_element")
FRAUD_EXEMPT = (
    "informative_used_for_identification",
    "purpose_not_permitted",
    "payroll_data_misuse",
    "third_party_sharing",
    "message_content_misuse",
)
T0 = datetime(2026, 11, 1, tzinfo=UTC)


@st.composite
def events(draw: st.DrawFn, purposes: st.SearchStrategy[str | None] = PURPOSES) -> dict[str, Any]:
    """An access event in JSON form, over the whole vocabulary."""
    return {
        "event_id": str(draw(st.uuids())),
        "occurred_at": (T0 + timedelta(seconds=draw(st.integers(0, 3600)))).isoformat(),
        "service": draw(SERVICES),
        "actor": {
            "kind": draw(st.sampled_from(ACTOR_KINDS)),
            "id": draw(st.sampled_from(["a", "b"])),
        },
        "subject_id": draw(st.sampled_from(["s1", "s2", None])),
        "elements": draw(st.lists(ELEMENTS, min_size=1, max_size=6)),
        "purpose": draw(purposes),
        "operation": draw(st.sampled_from(OPERATIONS)),
        "processing": draw(st.sampled_from(PROCESSING_STATES)),
        "destination": {"kind": draw(st.sampled_from(DESTINATION_KINDS)), "name": None},
        "origin_service": draw(st.one_of(st.none(), SERVICES)),
        "consent": {flag: draw(st.booleans()) for flag in CONSENT_FLAGS},
    }


def _classify(fields: dict[str, Any], state: MemoryState | None = None) -> dict[str, Any]:
    event: DataAccessEvent = event_from_json(fields)
    return ENGINE.classify(event, state or MemoryState()).to_json()


@settings(max_examples=300, deadline=None)
@given(st.lists(events(), min_size=1, max_size=8))
def test_verdicts_are_deterministic(stream: list[dict[str, Any]]) -> None:
    """The same sequence of events gives the same verdicts, from fresh engines and states."""
    other = Engine(POLICY)  # a fresh engine: nothing compiled yet
    first_state, second_state = MemoryState(), MemoryState()
    for fields in stream:
        event = event_from_json(fields)
        first = ENGINE.classify(event, first_state).to_json()
        second = other.classify(event, second_state).to_json()
        assert first == second
    assert first_state.values == second_state.values


@settings(max_examples=300, deadline=None)
@given(events(purposes=FRAUD))
def test_fraud_prevention_never_raises_the_exempt_rules(fields: dict[str, Any]) -> None:
    """`fraud_prevention.*` never raises rules 1, 2, 4, 10 or 12, whatever else the event does."""
    raised = {v["rule"] for v in _classify(fields)["violations"]}
    assert not raised & set(FRAUD_EXEMPT)


@settings(max_examples=300, deadline=None)
@given(events(), ELEMENTS)
def test_adding_an_element_never_removes_rules_2_7_13(fields: dict[str, Any], extra: str) -> None:
    """Rules 2, 7 and 13 judge elements one by one: one more element cannot clear them."""
    before = {v["rule"]: v["elements"] for v in _classify(fields)["violations"]}
    after = {
        v["rule"]: v["elements"]
        for v in _classify({**fields, "elements": [*fields["elements"], extra]})["violations"]
    }
    for rule in MONOTONE_RULES:
        if rule in before:
            assert rule in after
            assert set(before[rule]) <= set(after[rule])


@settings(max_examples=200, deadline=None)
@given(events())
def test_findings_name_only_elements_of_the_event(fields: dict[str, Any]) -> None:
    """Each finding names at least one element, all from the event, and a filled message."""
    data = _classify(fields)
    codes = {e["code"] for e in data["elements"]}
    for violation in data["violations"]:
        assert violation["elements"]
        assert set(violation["elements"]) <= codes
        assert "{" not in violation["message"]
