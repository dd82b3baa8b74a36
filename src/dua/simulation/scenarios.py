"""The traffic of the services in the seed page, as scenarios: compliant accesses, and for
every stateless rule of the catalogue one access that breaks it.

Each scenario names the rules it is *meant* to break, so the demo can check that the pipeline
found what the simulator planted. Subjects are raw ids here: the SDK pseudonymizes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Scenario:
    """One kind of access a service makes."""

    name: str
    service: str
    elements: tuple[str, ...]
    purpose: str | None
    actor_kind: str = "SERVICE"
    operation: str = "READ"
    processing: str = "RAW"
    destination: str = "INTERNAL"
    destination_name: str | None = None
    origin_service: str | None = None
    consent: dict[str, bool] = field(default_factory=dict)
    record_count: int = 1
    breaks: frozenset[str] = frozenset()  # rule ids this access is planted to raise

    def emit_arguments(self, subject: str) -> dict[str, Any]:
        """Keyword arguments for the SDK's `emit`."""
        return {
            "service": self.service,
            "actor_kind": self.actor_kind,
            "actor_id": f"{self.service}-{self.name}",
            "subject": subject,
            "elements": list(self.elements),
            "purpose": self.purpose,
            "operation": self.operation,
            "processing": self.processing,
            "destination": self.destination,
            "destination_name": self.destination_name,
            "origin_service": self.origin_service,
            "record_count": self.record_count,
            **self.consent,
        }


def _s(name: str, service: str, elements: str, purpose: str | None, **kw: Any) -> Scenario:
    codes = tuple(f"user.{code}" for code in elements.split())
    breaks = frozenset(kw.pop("breaks", ()))
    return Scenario(name, service, codes, purpose, breaks=breaks, **kw)


COMPLIANT: tuple[Scenario, ...] = (
    _s("match-message", "zexy-enmusubi", "account.id content.message", "service.user_messaging"),
    _s("verify", "zexy-enmusubi", "account.id name contact.phone", "service.identity_verification"),
    _s(
        "review-quality",
        "hotpepper-beauty",
        "content.review behavior.usage_history",
        "improvement.support_quality",
        processing="PSEUDONYMIZED",
    ),
    _s(
        "points",
        "hotpepper-beauty",
        "account.id behavior.usage_history",
        "service.points_program",
        destination="CLIENT",
        destination_name="partner-salon",
    ),
    _s(
        "rankings",
        "carsensor",
        "behavior.usage_history behavior.browsing_history",
        "publication.rankings_trends",
        processing="STATISTICAL",
        destination="PUBLIC",
        destination_name="carsensor-media",
    ),
    _s("survey", "jalan", "account.id contact.email content.survey_answer", "research.surveys"),
    _s(
        "prize",
        "jalan",
        "account.id name contact.email contact.address",
        "service.prize_fulfillment",
    ),
    _s(
        "recommend",
        "hotpepper-gourmet",
        "behavior.usage_history behavior.browsing_history demographic.attributes",
        "research.profiling",
        processing="PSEUDONYMIZED",
    ),
    _s(
        "ads",
        "hotpepper-gourmet",
        "behavior.browsing_history device.ad_id",
        "marketing.targeted_advertising",
        destination="AD_PLATFORM",
        destination_name="ad-network",
    ),
    _s("verify", "rikunabi", "account.id name contact.email", "service.identity_verification"),
    _s("campaign", "rikunabi", "account.id name contact.email", "marketing.campaign_notice"),
    _s(
        "transfer",
        "airwork-payroll",
        "account.id name financial.salary financial.bank_account",
        "service.payroll_transfer",
        destination="FINANCIAL_INSTITUTION",
        destination_name="bank",
    ),
    _s(
        "payslip",
        "airwork-payroll",
        "account.id name financial.salary",
        "service.payroll_transfer",
        destination="EMPLOYER",
        destination_name="employer-co",
    ),
    _s(
        "payroll-stats",
        "airwork-payroll",
        "financial.salary",
        "improvement.service_development",
        processing="STATISTICAL",
    ),
    _s(
        "fraud-check",
        "rikunabi",
        "name behavior.browsing_history behavior.activity_log",
        "fraud_prevention.investigation",
        actor_kind="EMPLOYEE",
        operation="JOIN",
    ),
    _s(
        "cross-recommend",
        "hotpepper-gourmet",
        "behavior.usage_history",
        "research.profiling",
        processing="PSEUDONYMIZED",
        origin_service="hotpepper-beauty",
    ),
)

VIOLATING: tuple[Scenario, ...] = (
    _s(
        "verify-by-browsing",
        "rikunabi",
        "account.id behavior.browsing_history",
        "service.identity_verification",
        breaks={"informative_used_for_identification", "purpose_not_permitted"},
    ),
    _s(
        "survey-phone",
        "jalan",
        "account.id contact.phone content.survey_answer",
        "research.surveys",
        breaks={"purpose_not_permitted"},
    ),
    _s("no-purpose", "carsensor", "behavior.browsing_history", None, breaks={"undeclared_purpose"}),
    _s(
        "salary-campaign",
        "airwork-payroll",
        "account.id contact.email financial.salary",
        "marketing.campaign_notice",
        breaks={"payroll_data_misuse", "purpose_not_permitted"},
    ),
    _s(
        "employer-usage",
        "airwork-payroll",
        "account.id behavior.usage_history",
        "service.payroll_transfer",
        destination="EMPLOYER",
        destination_name="employer-co",
        breaks={"employer_disclosure", "purpose_not_permitted"},
    ),
    _s(
        "ads-opted-out",
        "hotpepper-gourmet",
        "behavior.browsing_history device.ad_id",
        "marketing.targeted_advertising",
        destination="AD_PLATFORM",
        destination_name="ad-network",
        consent={"targeting_opt_out": True},
        breaks={"targeting_opted_out"},
    ),
    _s(
        "ads-email",
        "hotpepper-gourmet",
        "contact.email device.ad_id",
        "marketing.targeted_advertising",
        destination="AD_PLATFORM",
        destination_name="ad-network",
        breaks={"personal_data_to_ad_platform", "purpose_not_permitted"},
    ),
    _s(
        "raw-ranking",
        "carsensor",
        "behavior.usage_history",
        "publication.rankings_trends",
        destination="PUBLIC",
        destination_name="carsensor-media",
        breaks={"identifiable_publication"},
    ),
    _s(
        "raw-profiling",
        "hotpepper-gourmet",
        "behavior.usage_history",
        "research.profiling",
        breaks={"identifiable_profiling"},
    ),
    _s(
        "survey-to-client",
        "jalan",
        "account.id content.survey_answer",
        "research.surveys",
        destination="CLIENT",
        destination_name="travel-agency",
        breaks={"third_party_sharing"},
    ),
    _s(
        "out-of-scope",
        "hotpepper-gourmet",
        "behavior.usage_history",
        "research.profiling",
        processing="PSEUDONYMIZED",
        origin_service="partner-bank",
        breaks={"cross_use_out_of_scope"},
    ),
    _s(
        "message-mining",
        "zexy-enmusubi",
        "content.message",
        "improvement.service_development",
        breaks={"message_content_misuse", "purpose_not_permitted"},
    ),
    _s(
        "face-scan",
        "zexy-enmusubi",
        "account.id biometric.face",
        "service.identity_verification",
        breaks={"unclassified_element", "purpose_not_permitted"},
    ),
    _s(
        "points-to-broker",
        "hotpepper-beauty",
        "account.id behavior.usage_history",
        "service.points_program",
        destination="CLIENT",
        destination_name="data-broker",
        breaks={"unregistered_recipient"},
    ),
    _s(
        "ads-linked-unconsented",
        "hotpepper-gourmet",
        "behavior.browsing_history device.ad_id",
        "marketing.targeted_advertising",
        destination="AD_PLATFORM",
        destination_name="google-ads",
        breaks={"linkable_provision_without_consent"},
    ),
    _s(
        "survey-bulk-export",
        "jalan",
        "account.id contact.email content.survey_answer",
        "research.surveys",
        operation="EXPORT",
        record_count=50_000,
        breaks={"bulk_access"},
    ),
)

STATELESS_RULES: frozenset[str] = frozenset().union(*(s.breaks for s in VIOLATING))
