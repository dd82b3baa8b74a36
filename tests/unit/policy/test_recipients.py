"""Recipients and record-count thresholds are policy data: parsed, validated, looked up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dua_policy import Policy, PolicyError, Recipient, load_policy

Document = dict[str, Any]


def _problems(document: Document, policy_from: Callable[[Document], Policy]) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        policy_from(document)
    return [str(p) for p in caught.value.problems]


def test_default_policy_declares_the_seed_recipients() -> None:
    """The demo's recipients are declared with what APPI records need."""
    policy = load_policy()
    google = policy.recipient("AD_PLATFORM", "google-ads")
    assert google is not None
    assert google.links_informative
    assert google.address
    assert google.basis == "consent"
    salon = policy.recipient("CLIENT", "partner-salon")
    assert salon is not None
    assert salon == Recipient(
        "CLIENT",
        "partner-salon",
        salon.address,
        salon.representative,
        joint_use=False,
        links_informative=False,
    )
    group = policy.recipient("GROUP_SERVICE", "jalan")
    assert group is not None
    assert group.joint_use


def test_recipient_lookup_is_per_kind_and_needs_a_name() -> None:
    """A name declared for one kind is not a recipient of another; no name, no recipient."""
    policy = load_policy()
    assert policy.recipient("CLIENT", "google-ads") is None
    assert policy.recipient("AD_PLATFORM", None) is None
    assert policy.recipient("AD_PLATFORM", "nobody") is None


def test_recipient_defaults(
    default_document: Document, policy_from: Callable[[Document], Policy]
) -> None:
    """Only kind and name are required; the rest defaults to a consent-based third party."""
    default_document["recipients"] = [{"kind": "CLIENT", "name": "acme"}]
    policy = policy_from(default_document)
    assert policy.recipients == (Recipient("CLIENT", "acme"),)
    assert policy.recipients[0].basis == "consent"


def test_recipients_are_optional(
    default_document: Document, policy_from: Callable[[Document], Policy]
) -> None:
    """A policy without recipients and thresholds loads (nothing is declared)."""
    del default_document["recipients"]
    del default_document["record_count_thresholds"]
    policy = policy_from(default_document)
    assert policy.recipients == ()
    assert policy.record_count_thresholds.for_purpose("research.surveys") is None


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            {"kind": "INTERNAL", "name": "x"},
            "recipients[0].kind: unknown kind 'INTERNAL'; expected one of GROUP_SERVICE, CLIENT, "
            "AD_PLATFORM, EMPLOYER, PUBLIC, FINANCIAL_INSTITUTION",
        ),
        ({"kind": "CLIENT"}, "recipients[0].name: is required"),
        (
            {"kind": "CLIENT", "name": "x", "basis": "implied"},
            "recipients[0].basis: unknown basis 'implied'; expected one of consent, opt_out",
        ),
        (
            {"kind": "CLIENT", "name": "x", "links_informative": "yes"},
            "recipients[0].links_informative: must be true or false, got text",
        ),
        (
            {"kind": "CLIENT", "name": "x", "joint_use": True},
            "recipients[0].joint_use: only a GROUP_SERVICE recipient is joint use",
        ),
        (
            {"kind": "CLIENT", "name": "x", "adress": "typo"},
            "recipients[0].adress: unknown field; expected one of address, basis, joint_use, "
            "kind, links_informative, name, representative",
        ),
    ],
)
def test_bad_recipient_is_reported_with_its_location(
    entry: dict[str, Any],
    problem: str,
    default_document: Document,
    policy_from: Callable[[Document], Policy],
) -> None:
    """Each mistake in a recipient gives one problem naming where it is."""
    default_document["recipients"] = [entry]
    assert _problems(default_document, policy_from) == [f"policy.yaml: {problem}"]


def test_duplicate_recipient_per_kind_is_reported(
    default_document: Document, policy_from: Callable[[Document], Policy]
) -> None:
    """A name is declared once per kind; the same name under another kind is fine."""
    default_document["recipients"] = [
        {"kind": "CLIENT", "name": "acme"},
        {"kind": "AD_PLATFORM", "name": "acme"},
        {"kind": "CLIENT", "name": "acme"},
    ]
    assert _problems(default_document, policy_from) == [
        "policy.yaml: recipients[2].name: duplicate recipient 'acme' of kind CLIENT "
        "(first at recipients[0])"
    ]


def test_thresholds_default_and_per_purpose() -> None:
    """A purpose's own threshold overrides the default; other purposes take the default."""
    thresholds = load_policy().record_count_thresholds
    assert thresholds.for_purpose("fraud_prevention.investigation") == 100_000
    assert thresholds.for_purpose("research.surveys") == 10_000
    assert thresholds.for_purpose(None) == 10_000


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"default": -1}, "record_count_thresholds.default: -1 is not a record count"),
        (
            {"default": 5, "purposes": {"service.nope": 3}},
            "record_count_thresholds.purposes.service.nope: unknown purpose 'service.nope'",
        ),
        ({"purposes": {}}, "record_count_thresholds.default: is required"),
    ],
)
def test_bad_thresholds_are_reported(
    value: dict[str, Any],
    problem: str,
    default_document: Document,
    policy_from: Callable[[Document], Policy],
) -> None:
    """Thresholds are record counts; overrides name purposes of the policy."""
    default_document["record_count_thresholds"] = value
    (found,) = _problems(default_document, policy_from)
    assert found.startswith(f"policy.yaml: {problem}")
