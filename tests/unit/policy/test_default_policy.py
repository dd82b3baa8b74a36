"""The shipped default policy is DOMAIN.md exactly: codes, categories, permissions, rules."""

from __future__ import annotations

import re
from datetime import timedelta

from dua_policy import Policy

CATALOG = {
    "user.account.id": ("personal", "normal"),
    "user.name": ("personal", "normal"),
    "user.contact.phone": ("personal", "normal"),
    "user.contact.email": ("personal", "normal"),
    "user.contact.address": ("personal", "normal"),
    "user.financial.salary": ("personal", "high"),
    "user.financial.bank_account": ("personal", "high"),
    "user.content.message": ("personal", "high"),
    "user.behavior.usage_history": ("informative", "normal"),
    "user.behavior.browsing_history": ("informative", "normal"),
    "user.behavior.activity_log": ("informative", "normal"),
    "user.device.network": ("informative", "normal"),
    "user.device.ad_id": ("informative", "normal"),
    "user.demographic.attributes": ("informative", "normal"),
    "user.content.review": ("informative", "normal"),
    "user.content.survey_answer": ("informative", "normal"),
    "user.content.support_feedback": ("informative", "normal"),
}

# purpose -> (日本語, permitted elements without the leading `user.`)
PURPOSES = {
    "service.identity_verification": (
        "ユーザーの本人確認",
        {"account.id", "name", "contact.phone", "contact.email"},
    ),
    "service.points_program": (
        "ポイントプログラムの運営",
        {"account.id", "behavior.usage_history"},
    ),
    "service.inquiry_response": (
        "お問い合わせの対応",
        {"name", "contact.email", "behavior.usage_history", "content.support_feedback"},
    ),
    "service.prize_fulfillment": (
        "当選者の抽選や景品・謝礼の発送",
        {"account.id", "name", "contact.email", "contact.address"},
    ),
    "service.user_messaging": ("ユーザー同士のやりとり", {"account.id", "content.message"}),
    "service.payroll_transfer": (
        "給与振り込み機能の提供",
        {"account.id", "name", "financial.salary", "financial.bank_account"},
    ),
    "fraud_prevention.investigation": ("不正行為に関する調査", {c[5:] for c in CATALOG}),
    "improvement.service_development": (
        "サービスの改善・新規開発",
        {
            "behavior.activity_log",
            "behavior.browsing_history",
            "behavior.usage_history",
            "device.network",
            "content.review",
            "content.support_feedback",
        },
    ),
    "improvement.support_quality": (
        "お問い合わせへの対応品質の改善",
        {"behavior.usage_history", "content.review", "content.support_feedback"},
    ),
    "marketing.campaign_notice": (
        "キャンペーン案内、お知らせ・広告などの配信",
        {"account.id", "name", "contact.email"},
    ),
    "marketing.targeted_advertising": (
        "行動ターゲティング広告の配信",
        {"behavior.browsing_history", "device.ad_id"},
    ),
    "publication.rankings_trends": (
        "ランキングやトレンドとして媒体に掲載",
        {
            "behavior.usage_history",
            "behavior.browsing_history",
            "demographic.attributes",
            "content.review",
            "content.survey_answer",
        },
    ),
    "research.surveys": (
        "アンケート調査・モニター調査",
        {"account.id", "contact.email", "content.survey_answer"},
    ),
    "research.profiling": (
        "属性情報・行動履歴などの分析",
        {"behavior.usage_history", "behavior.browsing_history", "demographic.attributes"},
    ),
}

RULES = {
    "informative_used_for_identification": "high",
    "purpose_not_permitted": "medium",
    "undeclared_purpose": "medium",
    "payroll_data_misuse": "critical",
    "employer_disclosure": "critical",
    "targeting_opted_out": "high",
    "personal_data_to_ad_platform": "critical",
    "identifiable_publication": "high",
    "identifiable_profiling": "medium",
    "third_party_sharing": "high",
    "cross_use_out_of_scope": "medium",
    "message_content_misuse": "high",
    "unclassified_element": "low",
    "unregistered_recipient": "high",
    "linkable_provision_without_consent": "high",
    "bulk_access": "medium",
    "reidentification_suspected": "high",
}

SERVICES = {
    "zexy-enmusubi",
    "hotpepper-beauty",
    "carsensor",
    "jalan",
    "hotpepper-gourmet",
    "rikunabi",
    "airwork-payroll",
}


def test_catalog_matches_the_domain(policy: Policy) -> None:
    """Every element code with its category and sensitivity, and no other."""
    assert {e.code: (e.category, e.sensitivity) for e in policy.elements} == CATALOG


def test_purposes_and_permitted_elements_match_the_domain(policy: Policy) -> None:
    """Every purpose code, its Japanese label and its permitted list."""
    found = {
        p.code: (p.label.ja, {code.removeprefix("user.") for code in p.permitted})
        for p in policy.purposes
    }
    assert found == PURPOSES


def test_purpose_category_is_the_part_before_the_dot(policy: Policy) -> None:
    """The six categories of the seed, each with Japanese and English labels."""
    assert {p.category for p in policy.purposes} == set(policy.purpose_categories)
    assert set(policy.purpose_categories) == {
        "service",
        "fraud_prevention",
        "improvement",
        "marketing",
        "publication",
        "research",
    }
    for purpose in policy.purposes:
        assert purpose.code.split(".")[0] == purpose.category
        assert purpose.label.en


def test_fraud_investigation_permits_every_element(policy: Policy) -> None:
    """`fraud_prevention.investigation` permits every element, even unknown ones."""
    investigation = policy.purpose("fraud_prevention.investigation")
    assert investigation is not None
    assert investigation.permits_all


def test_rules_and_severities_match_the_domain(policy: Policy) -> None:
    """All 17 rules, in order, with their severities, all active."""
    assert {r.id: r.severity for r in policy.rules} == RULES
    assert [r.id for r in policy.rules] == list(RULES)
    assert {r.mode for r in policy.rules} == {"active"}


def test_scope_payroll_service_and_window(policy: Policy) -> None:
    """The seed's services form the cross-use scope; the payroll service; ten minutes."""
    assert policy.cross_use_scope == SERVICES
    assert policy.payroll_service == "airwork-payroll"
    assert policy.reidentification_window == timedelta(minutes=10)


def test_version_is_declared_version_plus_content_hash(policy: Policy) -> None:
    """`2026.11+<8 hex digits>`."""
    assert re.fullmatch(r"2026\.11\+[0-9a-f]{8}", policy.version)
    assert policy.version == f"{policy.declared_version}+{policy.content_hash}"


def test_every_message_names_service_purpose_and_elements(policy: Policy) -> None:
    """Each default message says who, for which purpose, with which data, and the promise."""
    for rule in policy.rules:
        for placeholder in ("{service}", "{purpose}", "{elements}"):
            assert placeholder in rule.message, (rule.id, placeholder)
        assert ";" in rule.message, rule.id  # what happened; the promise it breaks
