"""A compliance team changes verdicts by editing YAML alone: new rules, shadow mode, new
permissions, parent codes in rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dua_policy import Engine, MemoryState, Policy, load_policy
from dua_schemas import DataAccessEvent

Document = dict[str, Any]

NO_PHONE_TO_CLIENT = """
  - id: no_phone_to_client
    severity: high
    mode: active
    description: Phone numbers never leave for client companies.
    when: {destination_in: [CLIENT]}
    select: {element_in: [user.contact.phone]}
    message: >-
      {service} sent {elements} to a client ({destination}) for {purpose}; phone numbers
      are never given to clients.
"""


def rules_of(engine: Engine, event: DataAccessEvent) -> dict[str, tuple[str, ...]]:
    """Rule id -> elements involved, for one event on a fresh state."""
    return {f.rule: f.elements for f in engine.classify(event, MemoryState()).violations}


def test_custom_rule_written_in_yaml_changes_verdicts(
    default_text: str, make_event: Callable[..., DataAccessEvent], tmp_path: Any
) -> None:
    """A rule "no user.contact.phone to CLIENT" added to the YAML file fires on such events."""
    path = tmp_path / "policy.yaml"
    path.write_text(default_text + NO_PHONE_TO_CLIENT, "utf-8")
    custom = Engine(load_policy(path))
    default = Engine(load_policy())
    shared = make_event(
        purpose="service.points_program",
        destination="CLIENT",
        elements=["user.account.id", "user.contact.phone"],
    )
    assert "no_phone_to_client" not in rules_of(default, shared)
    assert rules_of(custom, shared)["no_phone_to_client"] == ("user.contact.phone",)
    kept = make_event(destination="INTERNAL", elements=["user.contact.phone"])
    assert "no_phone_to_client" not in rules_of(custom, kept)
    assert custom.policy_version != default.policy_version


def test_rule_naming_a_parent_element_covers_its_leaves(
    default_document: Document,
    policy_from: Callable[[Document], Policy],
    make_event: Callable[..., DataAccessEvent],
) -> None:
    """`element_in: [user.contact]` matches phone, email and address."""
    default_document["rules"].append(
        {
            "id": "no_contact_to_group",
            "severity": "medium",
            "mode": "active",
            "message": "{service} sent contact data ({elements}) to {destination}.",
            "when": {"destination_in": ["GROUP_SERVICE"]},
            "select": {"element_in": ["user.contact"]},
        }
    )
    engine = Engine(policy_from(default_document))
    event = make_event(
        destination="GROUP_SERVICE",
        elements=["user.name", "user.contact.email", "user.contact.address"],
    )
    assert rules_of(engine, event)["no_contact_to_group"] == (
        "user.contact.email",
        "user.contact.address",
    )


def test_shadow_rule_is_recorded_and_marked_but_not_alerted(
    default_document: Document,
    policy_from: Callable[[Document], Policy],
    make_event: Callable[..., DataAccessEvent],
) -> None:
    """A rule switched to shadow still produces its finding, with mode `shadow`, and no alert."""
    for rule in default_document["rules"]:
        if rule["id"] == "third_party_sharing":
            rule["mode"] = "shadow"
    engine = Engine(policy_from(default_document))
    verdict = engine.classify(
        make_event(purpose="marketing.campaign_notice", destination="CLIENT"), MemoryState()
    )
    modes = {f.rule: f.mode for f in verdict.violations}
    assert modes["third_party_sharing"] == "shadow"
    assert "third_party_sharing" not in {f.rule for f in verdict.alerts}
    (record,) = [
        r
        for r in verdict.violation_records(verdict.event["occurred_at"])
        if r["rule"] == "third_party_sharing"
    ]
    assert record["mode"] == "shadow"


def test_permission_added_in_yaml_removes_the_violation(
    default_document: Document,
    policy_from: Callable[[Document], Policy],
    make_event: Callable[..., DataAccessEvent],
) -> None:
    """Adding an element to a purpose's permitted list stops rule 2 for it."""
    event = make_event(purpose="service.points_program", elements=["user.contact.email"])
    assert "purpose_not_permitted" in rules_of(Engine(load_policy()), event)
    default_document["purposes"][1]["permitted"].append("user.contact.email")
    assert "purpose_not_permitted" not in rules_of(Engine(policy_from(default_document)), event)


def test_any_element_and_sensitivity_predicates(
    default_document: Document,
    policy_from: Callable[[Document], Policy],
    make_event: Callable[..., DataAccessEvent],
) -> None:
    """A rule combining an event-level `any_element` with an element filter on sensitivity."""
    default_document["rules"].append(
        {
            "id": "high_sensitivity_export_with_contact",
            "severity": "high",
            "mode": "active",
            "message": "{service} exported {elements} together with contact data.",
            "when": {
                "all": [
                    {"operation_in": ["EXPORT"]},
                    {"any_element": {"element_in": ["user.contact"]}},
                ]
            },
            "select": {"sensitivity": ["high"]},
        }
    )
    engine = Engine(policy_from(default_document))
    with_contact = make_event(
        operation="EXPORT", elements=["user.contact.email", "user.financial.salary"]
    )
    without_contact = make_event(operation="EXPORT", elements=["user.financial.salary"])
    assert rules_of(engine, with_contact)["high_sensitivity_export_with_contact"] == (
        "user.financial.salary",
    )
    assert "high_sensitivity_export_with_contact" not in rules_of(engine, without_contact)


def test_service_predicates(
    default_document: Document,
    policy_from: Callable[[Document], Policy],
    make_event: Callable[..., DataAccessEvent],
) -> None:
    """`service_in` and `origin_in` name services; unnamed services match neither."""
    default_document["rules"].append(
        {
            "id": "jalan_data_in_rikunabi",
            "severity": "medium",
            "mode": "active",
            "message": "{service} used {elements} collected by {origin}.",
            "when": {"service_in": ["rikunabi"], "origin_in": ["jalan"]},
        }
    )
    engine = Engine(policy_from(default_document))
    assert "jalan_data_in_rikunabi" in rules_of(
        engine, make_event(service="rikunabi", origin_service="jalan")
    )
    assert "jalan_data_in_rikunabi" not in rules_of(
        engine, make_event(service="rikunabi", origin_service="carsensor")
    )
    assert "jalan_data_in_rikunabi" not in rules_of(
        engine, make_event(service="unknown-app", origin_service="jalan")
    )
