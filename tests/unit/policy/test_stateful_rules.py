"""The stateful rules: opt-outs learned from the consent stream (6) and re-identification
over a window per actor and subject (14), with the state they keep."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from dua_policy import Engine, MemoryState, Policy, Verdict
from dua_schemas import ConsentChange, DataAccessEvent

TARGETED = {"purpose": "marketing.targeted_advertising", "elements": ["user.device.ad_id"]}
LINKABLE = {
    "purpose": "research.profiling",
    "processing": "PSEUDONYMIZED",
    "elements": ["user.behavior.browsing_history"],
}
IDENTIFYING = {"purpose": "marketing.campaign_notice", "elements": ["user.contact.email"]}
REID = "reidentification_suspected"


@dataclass
class Timeline:
    """One engine and one state, fed events and consent changes in order."""

    engine: Engine
    make_event: Callable[..., DataAccessEvent]
    make_consent: Callable[..., ConsentChange]
    state: MemoryState = field(default_factory=MemoryState)

    def consent(self, minutes: float, **flags: Any) -> None:
        """A consent change `minutes` after T0."""
        self.engine.apply_consent(self.make_consent(minutes, **flags), self.state)

    def verdict(self, **event: Any) -> Verdict:
        """Classify one event (overrides of the default event)."""
        return self.engine.classify(self.make_event(**event), self.state)

    def rules(self, **event: Any) -> set[str]:
        """The rules one event raises."""
        return {f.rule for f in self.verdict(**event).violations}


@pytest.fixture
def timeline(
    engine: Engine,
    make_event: Callable[..., DataAccessEvent],
    make_consent: Callable[..., ConsentChange],
) -> Callable[..., Timeline]:
    """`timeline(engine=None)`: a fresh timeline on the default or the given engine."""

    def start(custom: Engine | None = None) -> Timeline:
        return Timeline(custom or engine, make_event, make_consent)

    return start


# -- rule 6: targeting_opted_out -------------------------------------------------------------


def test_opt_out_from_the_consent_stream(timeline: Callable[..., Timeline]) -> None:
    """An opt-out learned from the consent stream makes targeted ads a violation."""
    t = timeline()
    assert "targeting_opted_out" not in t.rules(**TARGETED)
    t.consent(1, targeting_opt_out=True)
    assert "targeting_opted_out" in t.rules(at=2, **TARGETED)


def test_opting_back_in_clears_the_opt_out(timeline: Callable[..., Timeline]) -> None:
    """A newer change without the opt-out replaces the older opt-out."""
    t = timeline()
    t.consent(1, targeting_opt_out=True)
    t.consent(2, targeting_opt_out=False)
    assert "targeting_opted_out" not in t.rules(at=3, **TARGETED)


def test_late_older_consent_does_not_override_a_newer_one(
    timeline: Callable[..., Timeline],
) -> None:
    """An older opt-out arriving after a newer opt-in is ignored (latest by occurred_at)."""
    t = timeline()
    t.consent(5, targeting_opt_out=False)
    t.consent(1, targeting_opt_out=True)
    assert "targeting_opted_out" not in t.rules(at=6, **TARGETED)


def test_consent_is_judged_as_it_stood_when_the_access_happened(
    timeline: Callable[..., Timeline],
) -> None:
    """With the history known, an access is judged by the change in force at its time:
    before the opt-out compliant, between the opt-out and the opt-in a violation, after the
    opt-in compliant again, in whatever order the changes arrived."""
    t = timeline()
    t.consent(10, targeting_opt_out=False)
    t.consent(5, targeting_opt_out=True)  # arrives later, dated earlier
    assert "targeting_opted_out" not in t.rules(at=4, **TARGETED)
    assert "targeting_opted_out" in t.rules(at=5, **TARGETED)  # its own millisecond
    assert "targeting_opted_out" in t.rules(at=9, **TARGETED)
    assert "targeting_opted_out" not in t.rules(at=11, **TARGETED)


def test_an_access_before_any_change_known_is_judged_by_the_defaults(
    timeline: Callable[..., Timeline],
) -> None:
    """An opt-out dated after the access does not reach back to it."""
    t = timeline()
    t.consent(5, targeting_opt_out=True)
    assert "targeting_opted_out" not in t.rules(at=1, **TARGETED)


def test_a_repeated_change_changes_nothing(
    engine: Engine, make_consent: Callable[..., ConsentChange]
) -> None:
    """At-least-once: the same change applied again is no new history."""
    state = MemoryState()
    assert engine.apply_consent(make_consent(1, targeting_opt_out=True), state)
    assert not engine.apply_consent(make_consent(1, targeting_opt_out=True), state)
    assert "history" not in state.values["consent:subject-1"]


def test_history_past_the_retention_keeps_the_change_then_in_force(
    engine: Engine, make_consent: Callable[..., ConsentChange]
) -> None:
    """Changes older than the retention before the newest are dropped, except the one still
    in force at that horizon."""
    state = MemoryState()
    minute = 60_000
    for at in (0, 1, 2, 30):
        engine.apply_consent(
            make_consent(at, targeting_opt_out=at % 2 == 0), state, retention_ms=10 * minute
        )
    value = state.values["consent:subject-1"]
    assert [c["occurred_at"] - value["history"][0]["occurred_at"] for c in value["history"]] == [0]
    assert value["history"][0]["targeting_opt_out"] is True  # the change at minute 2
    assert value["targeting_opt_out"] is True


def test_a_verdict_says_when_an_opted_out_rule_awaits_consent(
    timeline: Callable[..., Timeline],
) -> None:
    """An ad an opt-out did not reach may still become a violation (the processor keeps it);
    one already a violation, or not an ad, does not."""
    t = timeline()
    assert t.verdict(at=1, **TARGETED).awaits_consent
    assert not t.verdict(at=1, purpose="marketing.campaign_notice").awaits_consent
    t.consent(0, targeting_opt_out=True)
    assert not t.verdict(at=1, **TARGETED).awaits_consent


def test_recheck_finds_what_a_late_change_makes_a_violation(
    timeline: Callable[..., Timeline], make_event: Callable[..., DataAccessEvent]
) -> None:
    """`Engine.recheck`: only the findings the new history makes and the old did not."""
    t = timeline()
    event = make_event(at=3, **TARGETED)
    before = t.state.get("consent:subject-1")
    t.consent(1, targeting_opt_out=True)
    after = t.state.get("consent:subject-1")
    verdict, waiting = t.engine.recheck(event, before, after)
    assert [f.rule for f in verdict.violations] == ["targeting_opted_out"]
    assert not waiting
    verdict, waiting = t.engine.recheck(event, after, after)
    assert not verdict.violations


def test_late_older_opt_in_does_not_clear_a_newer_opt_out(
    timeline: Callable[..., Timeline],
) -> None:
    """An older opt-in arriving after a newer opt-out leaves the opt-out in force."""
    t = timeline()
    t.consent(5, targeting_opt_out=True)
    t.consent(1, targeting_opt_out=False)
    assert "targeting_opted_out" in t.rules(at=6, **TARGETED)


def test_opt_out_of_another_subject_does_not_count(timeline: Callable[..., Timeline]) -> None:
    """Consent is per subject."""
    t = timeline()
    t.consent(1, subject="subject-2", targeting_opt_out=True)
    assert "targeting_opted_out" not in t.rules(at=2, **TARGETED)


def test_event_without_subject_reads_only_its_own_flag(timeline: Callable[..., Timeline]) -> None:
    """Without a subject there is no consent state to consult; the event's flag still counts."""
    t = timeline()
    t.consent(1, targeting_opt_out=True)
    assert "targeting_opted_out" not in t.rules(subject_id=None, **TARGETED)
    flagged = {**TARGETED, "consent": {"targeting_opt_out": True}}
    assert "targeting_opted_out" in t.rules(subject_id=None, **flagged)


# -- rule 14: reidentification_suspected ---------------------------------------------------


def test_pseudonymized_then_personal_within_window_fires(timeline: Callable[..., Timeline]) -> None:
    """Pseudonymized informative data, then personal data of the same subject: a finding."""
    t = timeline()
    assert REID not in t.rules(at=0, **LINKABLE)
    verdict = t.verdict(at=5, **IDENTIFYING)
    (finding,) = [f for f in verdict.violations if f.rule == REID]
    assert finding.elements == ("user.contact.email",)
    assert "10 minutes" in finding.message


def test_personal_then_pseudonymized_within_window_fires(timeline: Callable[..., Timeline]) -> None:
    """The order of the two accesses does not matter."""
    t = timeline()
    assert REID not in t.rules(at=0, **IDENTIFYING)
    assert REID in t.rules(at=9, **LINKABLE)


def test_fires_once_per_window(timeline: Callable[..., Timeline]) -> None:
    """Further accesses inside the same window add no second finding."""
    t = timeline()
    t.rules(at=0, **LINKABLE)
    assert REID in t.rules(at=1, **IDENTIFYING)
    assert REID not in t.rules(at=2, **IDENTIFYING)
    assert REID not in t.rules(at=3, **LINKABLE)


def test_not_after_the_window_expires(timeline: Callable[..., Timeline]) -> None:
    """Accesses farther apart than the window are not linked."""
    t = timeline()
    t.rules(at=0, **LINKABLE)
    assert REID not in t.rules(at=10.5, **IDENTIFYING)


def test_a_new_window_can_fire_again(timeline: Callable[..., Timeline]) -> None:
    """Once the window of a finding has passed, a new pattern is reported again."""
    t = timeline()
    t.rules(at=0, **LINKABLE)
    assert REID in t.rules(at=1, **IDENTIFYING)
    t.rules(at=30, **LINKABLE)
    assert REID in t.rules(at=32, **IDENTIFYING)


def test_other_actor_or_subject_is_not_linked(timeline: Callable[..., Timeline]) -> None:
    """The pattern is per actor and per subject."""
    t = timeline()
    t.rules(at=0, **LINKABLE)
    assert REID not in t.rules(at=1, actor={"kind": "EMPLOYEE", "id": "emp-2"}, **IDENTIFYING)
    assert REID not in t.rules(at=1, subject_id="subject-2", **IDENTIFYING)


def test_fraud_investigation_is_not_reidentification(timeline: Callable[..., Timeline]) -> None:
    """Accesses for fraud investigation neither fire nor count toward the pattern."""
    t = timeline()
    fraud = "fraud_prevention.investigation"
    t.rules(at=0, **{**LINKABLE, "purpose": fraud})
    assert REID not in t.rules(at=1, **IDENTIFYING)
    t.rules(at=20, **LINKABLE)
    assert REID not in t.rules(at=21, **{**IDENTIFYING, "purpose": fraud})


def test_raw_informative_data_is_not_linkable(timeline: Callable[..., Timeline]) -> None:
    """Only pseudonymized informative data makes the first half of the pattern."""
    t = timeline()
    t.rules(at=0, **{**LINKABLE, "processing": "RAW"})
    assert REID not in t.rules(at=1, **IDENTIFYING)


def test_window_comes_from_the_policy(
    timeline: Callable[..., Timeline], default_document: dict[str, Any], policy_from: Any
) -> None:
    """`reidentification_window` in the policy sets the window."""
    default_document["reidentification_window"] = "30m"
    t = timeline(Engine(policy_from(default_document)))
    t.rules(at=0, **LINKABLE)
    assert REID in t.rules(at=25, **IDENTIFYING)


# -- the state itself ------------------------------------------------------------------------


def test_state_is_keyed_by_subject_and_json_serializable(timeline: Callable[..., Timeline]) -> None:
    """Every key belongs to one subject, and values survive a JSON round trip."""
    t = timeline()
    t.consent(0, targeting_opt_out=True)
    t.rules(at=0, **LINKABLE)
    t.rules(at=1, **IDENTIFYING)
    assert set(t.state.values) == {"consent:subject-1", "reid:subject-1"}
    assert json.loads(json.dumps(t.state.values)) == t.state.values
    assert t.state.values["consent:subject-1"]["targeting_opt_out"] is True


def test_expired_actor_entries_are_dropped(timeline: Callable[..., Timeline]) -> None:
    """Once a subject has entries for several actors, those past the window are removed."""
    t = timeline()
    for n in range(5):
        t.rules(at=0, actor={"kind": "EMPLOYEE", "id": f"old-{n}"}, **LINKABLE)
    assert len(t.state.values["reid:subject-1"]) == 5
    t.rules(at=60, **LINKABLE)
    assert list(t.state.values["reid:subject-1"]) == ["EMPLOYEE:emp-1"]


def test_shadow_stateful_rule_is_marked(
    timeline: Callable[..., Timeline], default_document: dict[str, Any], policy_from: Any
) -> None:
    """A stateful rule in shadow mode still records findings, marked shadow, with no alert."""
    for rule in default_document["rules"]:
        if rule["id"] == REID:
            rule["mode"] = "shadow"
    t = timeline(Engine(policy_from(default_document)))
    t.rules(at=0, **LINKABLE)
    verdict = t.verdict(at=1, **IDENTIFYING)
    (finding,) = [f for f in verdict.violations if f.rule == REID]
    assert finding.mode == "shadow"
    assert REID not in {f.rule for f in verdict.alerts}


def test_policy_fixture_is_the_default(policy: Policy) -> None:
    """The stateful tests run against the shipped window of ten minutes."""
    assert policy.reidentification_window == timedelta(minutes=10)


def test_a_repeated_access_reports_its_finding_again(timeline: Callable[..., Timeline]) -> None:
    """At-least-once: the access that completed the pattern may be processed twice. Its
    repeat must say the same (the sink keeps the newest copy of a tagged event), while
    another access in the same window still adds nothing."""
    t = timeline()
    t.rules(at=0, **LINKABLE)
    completing = t.make_event(at=1, **IDENTIFYING)
    first = {f.rule for f in t.engine.classify(completing, t.state).violations}
    again = t.engine.classify(completing, t.state)
    assert REID in first
    assert {f.rule for f in again.violations} == first
    assert [f.violation_id for f in again.violations if f.rule == REID] == [
        f.violation_id for f in t.engine.classify(completing, t.state).violations if f.rule == REID
    ]
    assert REID not in t.rules(at=2, **IDENTIFYING)


def test_pruning_reads_only_the_times_of_an_entry(timeline: Callable[..., Timeline]) -> None:
    """An entry holds the id of the access that fired; pruning compares times only."""
    t = timeline()
    t.rules(at=0, **LINKABLE)
    t.rules(at=1, **IDENTIFYING)  # fires: the entry now holds `fired_by`
    for n in range(5):
        t.rules(at=0, actor={"kind": "EMPLOYEE", "id": f"old-{n}"}, **LINKABLE)
    t.rules(at=60, actor={"kind": "EMPLOYEE", "id": "new"}, **LINKABLE)
    assert list(t.state.values["reid:subject-1"]) == ["EMPLOYEE:new"]
