"""Every stateless rule of DOMAIN.md, and every exception it names: one case that fires, one
that does not, under the shipped default policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from dua_policy import Verdict

PERSONAL = ["user.account.id", "user.name"]
INFORMATIVE = ["user.behavior.usage_history", "user.behavior.browsing_history"]
PAYROLL = ["user.financial.salary", "user.financial.bank_account"]


@dataclass(frozen=True)
class Case:
    """An event (as overrides of the default event), a rule, and whether it must fire."""

    name: str
    rule: str
    fires: bool
    event: dict[str, Any] = field(default_factory=dict)
    elements: tuple[str, ...] | None = None  # the elements the finding must name


CASES = [
    # 1 informative_used_for_identification
    Case(
        "identity verification with informative data",
        "informative_used_for_identification",
        True,
        {"purpose": "service.identity_verification", "elements": [*PERSONAL, INFORMATIVE[0]]},
        (INFORMATIVE[0],),
    ),
    Case(
        "identity verification with personal data only",
        "informative_used_for_identification",
        False,
        {"purpose": "service.identity_verification", "elements": ["user.contact.phone"]},
    ),
    Case(
        "JOIN linking informative with personal elements",
        "informative_used_for_identification",
        True,
        {
            "purpose": "research.surveys",
            "operation": "JOIN",
            "elements": ["user.contact.email", INFORMATIVE[1]],
        },
        ("user.contact.email", INFORMATIVE[1]),
    ),
    Case(
        "JOIN of informative elements only",
        "informative_used_for_identification",
        False,
        {"purpose": "research.profiling", "operation": "JOIN", "elements": INFORMATIVE},
    ),
    Case(
        "JOIN of personal and informative data for a fraud investigation (exception)",
        "informative_used_for_identification",
        False,
        {
            "purpose": "fraud_prevention.investigation",
            "operation": "JOIN",
            "elements": [*PERSONAL, *INFORMATIVE],
        },
    ),
    # 2 purpose_not_permitted
    Case(
        "an element the purpose does not list",
        "purpose_not_permitted",
        True,
        {
            "purpose": "service.points_program",
            "elements": ["user.account.id", "user.contact.email"],
        },
        ("user.contact.email",),
    ),
    Case(
        "only elements the purpose lists",
        "purpose_not_permitted",
        False,
        {
            "purpose": "service.points_program",
            "elements": ["user.account.id", "user.behavior.usage_history"],
        },
    ),
    Case(
        "a purpose listing a parent element permits its leaves",
        "purpose_not_permitted",
        False,
        {"purpose": "service.payroll_transfer", "elements": ["user.name", *PAYROLL]},
    ),
    Case(
        "fraud investigation may use every element (exception)",
        "purpose_not_permitted",
        False,
        {
            "purpose": "fraud_prevention.investigation",
            "elements": [*PERSONAL, *PAYROLL, "user.content.message"],
        },
    ),
    Case(
        "payroll data as statistics for improvement (exception)",
        "purpose_not_permitted",
        False,
        {
            "purpose": "improvement.service_development",
            "processing": "STATISTICAL",
            "elements": PAYROLL,
        },
    ),
    Case(
        "raw payroll data for improvement",
        "purpose_not_permitted",
        True,
        {"purpose": "improvement.service_development", "processing": "RAW", "elements": PAYROLL},
        tuple(PAYROLL),
    ),
    Case(
        "the statistics exception covers payroll data only",
        "purpose_not_permitted",
        True,
        {
            "purpose": "improvement.support_quality",
            "processing": "STATISTICAL",
            "elements": ["user.contact.phone"],
        },
        ("user.contact.phone",),
    ),
    Case(
        "an undeclared purpose is rule 3's, not rule 2's",
        "purpose_not_permitted",
        False,
        {"purpose": "service.unknown_use", "elements": ["user.contact.phone"]},
    ),
    # 3 undeclared_purpose
    Case("no purpose", "undeclared_purpose", True, {"purpose": None}, ("user.account.id",)),
    Case(
        "a purpose the policy lacks", "undeclared_purpose", True, {"purpose": "marketing.telesales"}
    ),
    Case("a declared purpose", "undeclared_purpose", False, {"purpose": "service.points_program"}),
    # 4 payroll_data_misuse
    Case(
        "salary for a campaign",
        "payroll_data_misuse",
        True,
        {
            "purpose": "marketing.campaign_notice",
            "elements": ["user.name", "user.financial.salary"],
        },
        ("user.financial.salary",),
    ),
    Case(
        "payroll data without a purpose",
        "payroll_data_misuse",
        True,
        {"purpose": None, "elements": PAYROLL},
    ),
    Case(
        "payroll data for payroll transfer",
        "payroll_data_misuse",
        False,
        {"purpose": "service.payroll_transfer", "elements": PAYROLL, "service": "airwork-payroll"},
    ),
    Case(
        "payroll data for a fraud investigation (exception)",
        "payroll_data_misuse",
        False,
        {"purpose": "fraud_prevention.investigation", "elements": PAYROLL},
    ),
    Case(
        "payroll statistics for improvement (exception)",
        "payroll_data_misuse",
        False,
        {
            "purpose": "improvement.support_quality",
            "processing": "STATISTICAL",
            "elements": PAYROLL,
        },
    ),
    Case(
        "payroll statistics for marketing are not covered by the statistics exception",
        "payroll_data_misuse",
        True,
        {"purpose": "marketing.campaign_notice", "processing": "STATISTICAL", "elements": PAYROLL},
    ),
    Case(
        "payroll data for another use with the user's consent (exception)",
        "payroll_data_misuse",
        False,
        {
            "purpose": "research.surveys",
            "elements": PAYROLL,
            "consent": {"payroll_other_use_consent": True},
        },
    ),
    # 5 employer_disclosure
    Case(
        "payroll data from the payroll service to the employer",
        "employer_disclosure",
        False,
        {
            "service": "airwork-payroll",
            "purpose": "service.payroll_transfer",
            "destination": "EMPLOYER",
            "elements": ["user.account.id", "user.name", *PAYROLL],
        },
    ),
    Case(
        "usage of the service given to the employer",
        "employer_disclosure",
        True,
        {
            "service": "airwork-payroll",
            "purpose": "service.payroll_transfer",
            "destination": "EMPLOYER",
            "elements": ["user.name", "user.behavior.usage_history"],
        },
        ("user.behavior.usage_history",),
    ),
    Case(
        "data collected by another service given to the employer",
        "employer_disclosure",
        True,
        {
            "service": "airwork-payroll",
            "origin_service": "rikunabi",
            "purpose": "service.payroll_transfer",
            "destination": "EMPLOYER",
            "elements": ["user.name"],
        },
        ("user.name",),
    ),
    Case(
        "another service sending payroll elements to an employer",
        "employer_disclosure",
        True,
        {
            "service": "rikunabi",
            "purpose": "service.payroll_transfer",
            "destination": "EMPLOYER",
            "elements": PAYROLL,
        },
    ),
    # 6 targeting_opted_out (the flag on the event; the consent stream is in test_stateful_rules)
    Case(
        "targeted ads with the opt-out flag on the event",
        "targeting_opted_out",
        True,
        {
            "purpose": "marketing.targeted_advertising",
            "elements": ["user.device.ad_id"],
            "consent": {"targeting_opt_out": True},
        },
        ("user.device.ad_id",),
    ),
    Case(
        "targeted ads without an opt-out",
        "targeting_opted_out",
        False,
        {"purpose": "marketing.targeted_advertising", "elements": ["user.device.ad_id"]},
    ),
    Case(
        "an opt-out does not concern campaign notices",
        "targeting_opted_out",
        False,
        {"purpose": "marketing.campaign_notice", "consent": {"targeting_opt_out": True}},
    ),
    # 7 personal_data_to_ad_platform
    Case(
        "an email address sent to an ad platform",
        "personal_data_to_ad_platform",
        True,
        {
            "purpose": "marketing.targeted_advertising",
            "destination": "AD_PLATFORM",
            "elements": ["user.device.ad_id", "user.contact.email"],
        },
        ("user.contact.email",),
    ),
    Case(
        "only informative data sent to an ad platform",
        "personal_data_to_ad_platform",
        False,
        {
            "purpose": "marketing.targeted_advertising",
            "destination": "AD_PLATFORM",
            "elements": ["user.device.ad_id", "user.behavior.browsing_history"],
        },
    ),
    Case(
        "personal data kept internal",
        "personal_data_to_ad_platform",
        False,
        {
            "purpose": "marketing.campaign_notice",
            "destination": "INTERNAL",
            "elements": ["user.contact.email"],
        },
    ),
    # 8 identifiable_publication
    Case(
        "raw data for publication",
        "identifiable_publication",
        True,
        {
            "purpose": "publication.rankings_trends",
            "processing": "RAW",
            "elements": ["user.content.review"],
        },
    ),
    Case(
        "pseudonymized data to the public",
        "identifiable_publication",
        True,
        {
            "purpose": "research.surveys",
            "destination": "PUBLIC",
            "processing": "PSEUDONYMIZED",
            "elements": ["user.content.survey_answer"],
        },
    ),
    Case(
        "statistics for publication",
        "identifiable_publication",
        False,
        {
            "purpose": "publication.rankings_trends",
            "processing": "STATISTICAL",
            "elements": ["user.content.review"],
        },
    ),
    Case(
        "identifiable publication with prior consent (exception)",
        "identifiable_publication",
        False,
        {
            "purpose": "publication.rankings_trends",
            "processing": "RAW",
            "elements": ["user.content.review"],
            "consent": {"publication_consent": True},
        },
    ),
    # 9 identifiable_profiling
    Case(
        "profiling on raw data",
        "identifiable_profiling",
        True,
        {"purpose": "research.profiling", "processing": "RAW", "elements": INFORMATIVE},
    ),
    Case(
        "profiling on pseudonymized data",
        "identifiable_profiling",
        False,
        {"purpose": "research.profiling", "processing": "PSEUDONYMIZED", "elements": INFORMATIVE},
    ),
    # 10 third_party_sharing
    Case(
        "a client receives campaign data",
        "third_party_sharing",
        True,
        {
            "purpose": "marketing.campaign_notice",
            "destination": "CLIENT",
            "elements": ["user.contact.email"],
        },
        ("user.contact.email",),
    ),
    Case(
        "a client receives data of the jointly run points program (exception)",
        "third_party_sharing",
        False,
        {
            "purpose": "service.points_program",
            "destination": "CLIENT",
            "elements": ["user.account.id", "user.behavior.usage_history"],
        },
    ),
    Case(
        "a client receives data for a fraud investigation (exception)",
        "third_party_sharing",
        False,
        {"purpose": "fraud_prevention.investigation", "destination": "CLIENT"},
    ),
    Case(
        "a client receives data for no purpose",
        "third_party_sharing",
        True,
        {"purpose": None, "destination": "CLIENT"},
    ),
    # 11 cross_use_out_of_scope
    Case(
        "data collected by a service outside the scope",
        "cross_use_out_of_scope",
        True,
        {
            "service": "jalan",
            "origin_service": "partner-airline",
            "purpose": "research.profiling",
            "processing": "PSEUDONYMIZED",
            "elements": INFORMATIVE,
        },
    ),
    Case(
        "a service outside the scope using another's data",
        "cross_use_out_of_scope",
        True,
        {"service": "partner-airline", "origin_service": "jalan"},
    ),
    Case(
        "cross-use between services in the scope (exception)",
        "cross_use_out_of_scope",
        False,
        {"service": "hotpepper-gourmet", "origin_service": "hotpepper-beauty"},
    ),
    Case(
        "a service outside the scope using its own data",
        "cross_use_out_of_scope",
        False,
        {"service": "partner-airline", "origin_service": "partner-airline"},
    ),
    # 12 message_content_misuse
    Case(
        "messages read for service development",
        "message_content_misuse",
        True,
        {
            "purpose": "improvement.service_development",
            "elements": ["user.content.message", "user.content.review"],
        },
        ("user.content.message",),
    ),
    Case(
        "messages for messaging",
        "message_content_misuse",
        False,
        {
            "purpose": "service.user_messaging",
            "service": "zexy-enmusubi",
            "elements": ["user.account.id", "user.content.message"],
        },
    ),
    Case(
        "messages read in a fraud investigation (exception)",
        "message_content_misuse",
        False,
        {"purpose": "fraud_prevention.investigation", "elements": ["user.content.message"]},
    ),
    # 13 unclassified_element
    Case(
        "an element the catalog lacks",
        "unclassified_element",
        True,
        {"elements": ["user.account.id", "user.biometric.face"]},
        ("user.biometric.face",),
    ),
    Case(
        "a parent code is not an element",
        "unclassified_element",
        True,
        {"elements": ["user.contact"]},
        ("user.contact",),
    ),
    Case("catalog elements only", "unclassified_element", False, {"elements": ["user.account.id"]}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule}:{c.name}")
def test_rule_case(case: Case, judge: Callable[..., Verdict]) -> None:
    """The rule fires on the event exactly when the case says, naming the elements involved."""
    verdict = judge(**case.event)
    found = {f.rule: f for f in verdict.violations}
    assert (case.rule in found) is case.fires, [f.rule for f in verdict.violations]
    if case.fires and case.elements is not None:
        assert found[case.rule].elements == case.elements


def test_every_rule_has_positive_and_negative_cases() -> None:
    """The table covers rules 1 to 13 both ways (14 is stateful, see test_stateful_rules)."""
    rules = {c.rule for c in CASES}
    assert len(rules) == 13
    for rule in rules:
        assert {c.fires for c in CASES if c.rule == rule} == {True, False}, rule


def test_specific_rule_does_not_hide_the_generic_one(judge: Callable[..., Verdict]) -> None:
    """Salary used for a campaign is both payroll misuse (4) and not permitted (2)."""
    verdict = judge(purpose="marketing.campaign_notice", elements=["user.financial.salary"])
    assert {"payroll_data_misuse", "purpose_not_permitted"} <= {f.rule for f in verdict.violations}


def test_clean_event_has_no_violations(judge: Callable[..., Verdict]) -> None:
    """A points-program read of the elements the program lists raises nothing."""
    verdict = judge(elements=["user.account.id", "user.behavior.usage_history"])
    assert verdict.violations == ()


def test_message_names_service_purpose_elements_and_promise(judge: Callable[..., Verdict]) -> None:
    """A finding's message is a sentence naming who did what with which data, and the promise."""
    verdict = judge(
        service="carsensor",
        purpose="marketing.campaign_notice",
        destination="CLIENT",
        elements=["user.contact.email"],
    )
    (finding,) = [f for f in verdict.violations if f.rule == "third_party_sharing"]
    assert "carsensor" in finding.message
    assert "marketing.campaign_notice" in finding.message
    assert "user.contact.email" in finding.message
    assert "points program" in finding.message
    assert "{" not in finding.message
    assert finding.message.endswith(".")
