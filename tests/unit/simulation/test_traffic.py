"""The simulator's planned traffic: reproducible, and each scenario breaks exactly what it says."""

from __future__ import annotations

import uuid
from itertools import islice, pairwise

import pytest

from dua.simulation import (
    COMPLIANT,
    STATELESS_RULES,
    VIOLATING,
    PlannedAccess,
    PlannedConsent,
    Scenario,
    plan,
)
from dua_policy import Engine, MemoryState, load_policy
from dua_schemas import DataAccessEvent, event_from_json

ENGINE = Engine(load_policy())
ALL_RULES = 16  # DOMAIN.md's stateless rules, 1 to 13 and 15 to 17


def _event(scenario: Scenario, subject: str = "p-1") -> DataAccessEvent:
    arguments = scenario.emit_arguments(subject)
    return event_from_json(
        {
            "event_id": str(uuid.uuid4()),
            "occurred_at": 0,
            "service": arguments["service"],
            "actor": {"kind": arguments["actor_kind"], "id": arguments["actor_id"]},
            "subject_id": subject,
            "elements": arguments["elements"],
            "purpose": arguments["purpose"],
            "operation": arguments["operation"],
            "processing": arguments["processing"],
            "destination": {
                "kind": arguments["destination"],
                "name": arguments["destination_name"],
            },
            "origin_service": arguments["origin_service"],
            "record_count": arguments["record_count"],
            "consent": scenario.consent,
        }
    )


def _rules(scenario: Scenario) -> set[str]:
    verdict = ENGINE.classify(_event(scenario), MemoryState())
    return {v["rule"] for v in verdict.to_json()["violations"]}


@pytest.mark.parametrize("scenario", COMPLIANT, ids=lambda s: f"{s.service}/{s.name}")
def test_compliant_scenarios_raise_nothing(scenario: Scenario) -> None:
    """Every compliant scenario passes the default policy."""
    assert _rules(scenario) == set()


@pytest.mark.parametrize("scenario", VIOLATING, ids=lambda s: f"{s.service}/{s.name}")
def test_violating_scenarios_raise_what_they_plant(scenario: Scenario) -> None:
    """Each violating scenario raises exactly the rules it claims to break."""
    assert _rules(scenario) == set(scenario.breaks)


def test_every_stateless_rule_is_planted() -> None:
    """The violating scenarios cover all sixteen stateless rules of the catalogue."""
    assert len(STATELESS_RULES) == ALL_RULES


def test_plan_is_reproducible_and_seed_dependent() -> None:
    """The same seed gives the same traffic; another seed gives other traffic."""
    first = list(islice(plan(1, 0.2), 300))
    assert first == list(islice(plan(1, 0.2), 300))
    assert first != list(islice(plan(2, 0.2), 300))


def test_violation_share_follows_the_rate() -> None:
    """About the requested share of accesses is planted to break a rule."""
    accesses = [i for i in islice(plan(3, 0.25), 20_000) if isinstance(i, PlannedAccess)]
    share = sum(1 for a in accesses if a.breaks) / len(accesses)
    assert 0.22 < share < 0.28
    assert all(not a.breaks for a in islice(plan(3, 0.0), 2_000) if isinstance(a, PlannedAccess))


def test_stateful_sequences_use_subjects_of_their_own() -> None:
    """Consent and re-identification sequences never share subjects with random traffic."""
    items = list(islice(plan(4, 1.0, consent_rate=0.2), 5_000))
    consents = [i for i in items if isinstance(i, PlannedConsent)]
    assert consents
    assert all(c.subject.startswith(("opted-out-", "race-", "link-consented-")) for c in consents)
    reid = [
        i
        for i in items
        if isinstance(i, PlannedAccess) and "reidentification_suspected" in i.breaks
    ]
    assert reid
    assert all(a.subject.startswith("reidentified-") for a in reid)


def test_only_the_ad_after_an_opt_out_is_marked_to_follow_its_consent() -> None:
    """Each opt-out is followed at once by its subject's ad, the only access marked to follow
    a consent change, so the simulator knows which accesses to hold back."""
    items = list(islice(plan(4, 1.0, consent_rate=0.2), 5_000))
    following = [
        (before, item)
        for before, item in pairwise(items)
        if isinstance(item, PlannedAccess)
        and item.after_consent
        and not item.subject.startswith("link-consented-")
    ]
    assert following
    planned_before = [
        i for i in items[:-1] if isinstance(i, PlannedConsent) and i.subject.startswith("opted-")
    ]
    assert len(following) == len(planned_before)
    for consent, ad in following:
        assert isinstance(consent, PlannedConsent)
        assert consent.targeting_opt_out
        assert ad.subject == consent.subject
        assert ad.breaks == {"targeting_opted_out"}


def test_reidentification_sequence_fires_in_the_engine() -> None:
    """Replaying a planned re-identification pair through the engine raises rule 14 once."""
    items = list(islice(plan(5, 1.0, consent_rate=0.5), 2_000))
    reid = next(
        i
        for i in items
        if isinstance(i, PlannedAccess) and "reidentification_suspected" in i.breaks
    )
    pair = [i for i in items if isinstance(i, PlannedAccess) and i.subject == reid.subject]
    state = MemoryState()
    found = []
    for access in pair:
        event = _event(access.scenario, access.subject)
        found += [v["rule"] for v in ENGINE.classify(event, state).to_json()["violations"]]
    assert found == ["reidentification_suspected"]


def test_bad_rate_is_refused() -> None:
    """A violation rate outside 0..1 is an error, not silently clamped."""
    with pytest.raises(ValueError, match="violation_rate"):
        next(plan(1, 1.5))


def test_the_planted_races_find_what_they_plant() -> None:
    """Each race (opt-out and ad in one millisecond, an opt-out spooled past the grace, an
    opt-in after an opt-out), replayed through the engine in the order it is sent (a spooled
    change last) with the re-check of judged accesses, finds exactly what it plants."""
    from datetime import timedelta  # noqa: PLC0415 - only this test needs times

    from dua_schemas import to_millis  # noqa: PLC0415

    items = list(islice(plan(6, 1.0, consent_rate=0.3), 20_000))
    subjects = {i.subject for i in items if i.subject.startswith("race-")}
    kinds = {s.split("-")[1] for s in subjects}
    assert kinds == {"same_millisecond", "spooled_opt_out", "opt_in_again"}
    for subject in sorted(subjects)[:30]:
        sequence = [i for i in items if i.subject == subject]
        start = _event(next(i for i in sequence if isinstance(i, PlannedAccess)).scenario)
        base = start["occurred_at"]
        sent = sorted(sequence, key=lambda i: isinstance(i, PlannedConsent) and i.late_s > 0)
        state = MemoryState()
        kept: list[DataAccessEvent] = []
        found: list[str] = []
        for item in sent:
            at = base + timedelta(milliseconds=item.at_ms or 0)
            if isinstance(item, PlannedAccess):
                event = {**_event(item.scenario, subject), "occurred_at": at}
                verdict = ENGINE.classify(event, state)
                found += [f.rule for f in verdict.violations]
                if verdict.awaits_consent:
                    kept.append(event)
                continue
            key = "consent:" + subject
            before = state.get(key)
            change = {
                "subject_id": subject,
                "occurred_at": at,
                "targeting_opt_out": item.targeting_opt_out,
                "publication_consent": False,
                "payroll_other_use_consent": False,
                "third_party_link_consent": False,
            }
            ENGINE.apply_consent(change, state)  # type: ignore[arg-type]
            for event in kept:
                if to_millis(event["occurred_at"]) >= to_millis(at):
                    verdict, _ = ENGINE.recheck(event, before, state.get(key))
                    found += [f.rule for f in verdict.violations]
        planted = [r for i in sequence if isinstance(i, PlannedAccess) for r in i.breaks]
        assert sorted(found) == sorted(planted), subject


def test_each_run_plants_its_stateful_sequences_on_subjects_of_its_own() -> None:
    """Two runs with the same seed plant the same traffic, but the subjects of their stateful
    sequences differ, so a rule that reports once per window per subject reports both."""
    first = list(islice(plan(7, 0.5, run="run-a"), 3_000))
    second = list(islice(plan(7, 0.5, run="run-b"), 3_000))

    def sequence_subjects(planned: list[PlannedAccess | PlannedConsent]) -> set[str]:
        return {
            item.subject
            for item in planned
            if item.subject.startswith(("opted-out-", "reidentified-", "race-"))
        }

    assert sequence_subjects(first)
    assert not sequence_subjects(first) & sequence_subjects(second)
    assert all("run-a" in subject for subject in sequence_subjects(first))


def test_a_link_consent_is_followed_by_a_linked_ad_that_breaks_nothing() -> None:
    """Each planted link consent precedes its subject's provision to an ad platform that links
    the data: held back for the consent, planted to raise nothing (APPI Art. 31 confirmed)."""
    items = list(islice(plan(4, 1.0, consent_rate=0.2), 5_000))
    pairs = [
        (before, item)
        for before, item in pairwise(items)
        if isinstance(item, PlannedAccess) and item.subject.startswith("link-consented-")
    ]
    assert pairs
    for consent, access in pairs:
        assert isinstance(consent, PlannedConsent)
        assert consent.third_party_link_consent
        assert not consent.targeting_opt_out
        assert access.after_consent
        assert access.breaks == frozenset()
        assert access.scenario.destination_name == "google-ads"
