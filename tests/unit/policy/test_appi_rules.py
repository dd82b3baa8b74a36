"""Rules 15-17: recipients the policy declares, linkable provision without consent (APPI
Art. 31) and bulk access, each both ways."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dua_policy import Engine, MemoryState, Verdict
from dua_schemas import ConsentChange, DataAccessEvent

ADS = {
    "service": "hotpepper-gourmet",
    "purpose": "marketing.targeted_advertising",
    "elements": ["user.behavior.browsing_history", "user.device.ad_id"],
}
LINKING = {"kind": "AD_PLATFORM", "name": "google-ads"}
NOT_LINKING = {"kind": "AD_PLATFORM", "name": "ad-network"}
LINKABLE = "linkable_provision_without_consent"


def _rules(verdict: Verdict) -> set[str]:
    return {f.rule for f in verdict.violations}


@pytest.mark.parametrize(
    ("destination", "fires"),
    [
        ({"kind": "CLIENT", "name": "partner-salon"}, False),
        ({"kind": "CLIENT", "name": "unknown-client"}, True),
        ({"kind": "CLIENT", "name": None}, True),
        ({"kind": "AD_PLATFORM", "name": "partner-salon"}, True),  # declared for another kind
        ({"kind": "GROUP_SERVICE", "name": "jalan"}, False),
        ({"kind": "INTERNAL", "name": None}, False),
        ({"kind": "INTERNAL", "name": "anything"}, False),
    ],
)
def test_unregistered_recipient(
    judge: Callable[..., Verdict], destination: dict[str, Any], fires: bool
) -> None:
    """Rule 15 fires for a recipient not declared for its kind, never for INTERNAL."""
    verdict = judge(destination=destination)
    assert ("unregistered_recipient" in _rules(verdict)) is fires
    if fires:
        (finding,) = [f for f in verdict.violations if f.rule == "unregistered_recipient"]
        assert finding.severity == "high"
        assert finding.elements == ("user.account.id",)


def test_linkable_provision_without_consent_fires_on_informative_elements_only(
    judge: Callable[..., Verdict],
) -> None:
    """Rule 16 names the informative elements given to a recipient that links them."""
    verdict = judge(**{**ADS, "elements": ["user.device.ad_id", "user.name"]}, destination=LINKING)
    (finding,) = [f for f in verdict.violations if f.rule == LINKABLE]
    assert finding.elements == ("user.device.ad_id",)
    assert finding.severity == "high"


def test_no_linkable_finding_for_a_recipient_that_does_not_link(
    judge: Callable[..., Verdict],
) -> None:
    """A declared recipient that cannot link informative data raises nothing (rule 16)."""
    assert _rules(judge(**ADS, destination=NOT_LINKING)) == set()


def test_linkable_provision_with_consent_in_force_is_not_a_violation(
    engine: Engine,
    make_event: Callable[..., DataAccessEvent],
    make_consent: Callable[..., ConsentChange],
) -> None:
    """Consent from the stream in force at the access's time: no rule 16 finding."""
    state = MemoryState()
    engine.apply_consent(make_consent(0, third_party_link_consent=True), state)
    verdict = engine.classify(make_event(**ADS, destination=LINKING, at=5), state)
    assert _rules(verdict) == set()


def test_link_consent_is_judged_as_it_stood_at_the_access(
    engine: Engine,
    make_event: Callable[..., DataAccessEvent],
    make_consent: Callable[..., ConsentChange],
) -> None:
    """A consent given after the access does not cover it; one withdrawn before does not."""
    state = MemoryState()
    engine.apply_consent(make_consent(10, third_party_link_consent=True), state)
    engine.apply_consent(make_consent(20, third_party_link_consent=False), state)
    before = engine.classify(make_event(**ADS, destination=LINKING, at=5), state)
    during = engine.classify(make_event(**ADS, destination=LINKING, at=15), state)
    after = engine.classify(make_event(**ADS, destination=LINKING, at=25), state)
    assert LINKABLE in _rules(before)
    assert LINKABLE not in _rules(during)
    assert LINKABLE in _rules(after)


@pytest.mark.parametrize(
    ("purpose", "record_count", "fires"),
    [
        ("service.points_program", 10_000, False),
        ("service.points_program", 10_001, True),
        ("fraud_prevention.investigation", 50_000, False),  # its own, higher threshold
        ("fraud_prevention.investigation", 100_001, True),
        (None, 10_001, True),  # no purpose: the default threshold
    ],
)
def test_bulk_access(
    judge: Callable[..., Verdict], purpose: str | None, record_count: int, fires: bool
) -> None:
    """Rule 17 compares record_count with the purpose's threshold, else the default."""
    verdict = judge(purpose=purpose, record_count=record_count)
    assert ("bulk_access" in _rules(verdict)) is fires
    if fires:
        (finding,) = [f for f in verdict.violations if f.rule == "bulk_access"]
        assert finding.severity == "medium"
        assert str(record_count) in finding.message


@pytest.mark.parametrize(
    ("destination", "third_party"),
    [
        ({"kind": "INTERNAL", "name": None}, False),
        ({"kind": "GROUP_SERVICE", "name": "jalan"}, False),  # declared joint use
        ({"kind": "GROUP_SERVICE", "name": "group-analytics"}, True),  # not joint use
        ({"kind": "GROUP_SERVICE", "name": "unknown-group"}, True),
        ({"kind": "CLIENT", "name": "partner-salon"}, True),
        ({"kind": "EMPLOYER", "name": "employer-co"}, True),
        ({"kind": "PUBLIC", "name": "carsensor-media"}, True),
        ({"kind": "FINANCIAL_INSTITUTION", "name": "bank"}, True),
        ({"kind": "AD_PLATFORM", "name": "ad-network"}, True),
    ],
)
def test_provision_to_a_third_party(
    judge: Callable[..., Verdict], destination: dict[str, Any], third_party: bool
) -> None:
    """Every destination but INTERNAL and a joint-use group service is a third party."""
    assert judge(destination=destination).provision["third_party"] is third_party


def test_provision_record_names_the_declared_recipient(judge: Callable[..., Verdict]) -> None:
    """A declared recipient's address, representative and basis go into the record."""
    provision = judge(destination={"kind": "CLIENT", "name": "partner-salon"}).provision
    assert provision["recipient_registered"] is True
    assert provision["recipient_address"]
    assert provision["recipient_representative"]
    assert provision["basis"] == "consent"
    assert provision["linkable"] is False


def test_provision_to_an_undeclared_recipient_is_recorded_too(
    judge: Callable[..., Verdict],
) -> None:
    """An undeclared recipient is still a provision (and rule 15): nothing declared about it."""
    verdict = judge(destination={"kind": "CLIENT", "name": "data-broker"})
    assert verdict.provision["third_party"] is True
    assert verdict.provision["recipient_registered"] is False
    assert verdict.provision["recipient_address"] is None
    assert "unregistered_recipient" in _rules(verdict)


def test_art31_confirmation_both_ways(
    engine: Engine,
    make_event: Callable[..., DataAccessEvent],
    make_consent: Callable[..., ConsentChange],
) -> None:
    """Informative data to a linking recipient: confirmed with the consent in force (no
    violation), not confirmed without it (rule 16)."""
    state = MemoryState()
    engine.apply_consent(
        make_consent(0, subject="consenting", third_party_link_consent=True), state
    )
    consented = engine.classify(
        make_event(**ADS, destination=LINKING, subject_id="consenting", at=1), state
    )
    refused = engine.classify(make_event(**ADS, destination=LINKING, subject_id="other"), state)
    assert consented.provision["linkable"] is True
    assert consented.provision["link_consent"] is True
    assert LINKABLE not in _rules(consented)
    assert refused.provision["linkable"] is True
    assert refused.provision["link_consent"] is False
    assert LINKABLE in _rules(refused)


def test_personal_data_only_is_not_an_art31_case(judge: Callable[..., Verdict]) -> None:
    """Art. 31 is about informative data: personal elements alone are not linkable."""
    verdict = judge(destination=LINKING, elements=["user.account.id"])
    assert verdict.provision["third_party"] is True
    assert verdict.provision["linkable"] is False
