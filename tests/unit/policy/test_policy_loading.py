"""Loading validates everything and reports every problem at once, with its location."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from dua_policy import Policy, PolicyError, load_policy, parse_policy
from dua_schemas import DuaError

Document = dict[str, Any]


def _rule(**fields: Any) -> dict[str, Any]:
    """A valid extra rule, changed by `fields`."""
    rule = {
        "id": "extra_rule",
        "severity": "low",
        "mode": "active",
        "message": "{service} did something with {elements}.",
        "when": {"destination_in": ["CLIENT"]},
    }
    rule.update(fields)
    return rule


def _set(path: tuple[Any, ...], value: Any) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _add_rule(**fields: Any) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        document["rules"].append(_rule(**fields))

    return change


def _drop(key: str) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        del document[key]

    return change


def _add_element(code: str) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        entry = {"code": code, "category": "personal", "sensitivity": "normal"}
        document["elements"].append({**entry, "label": {"ja": "連絡先", "en": "Contact"}})

    return change


# (name, change, the one problem it must cause, exactly)
MISTAKES: list[tuple[str, Callable[[Document], None], str]] = [
    (
        "unknown element in a permitted list",
        _set(("purposes", 1, "permitted", 1), "user.foo"),
        "purposes[1].permitted[1]: unknown element 'user.foo'",
    ),
    (
        "duplicate element code",
        _add_element("user.account.id"),
        "elements[17].code: duplicate element code 'user.account.id' (first at elements[0])",
    ),
    (
        "duplicate purpose code",
        _set(("purposes", 2, "code"), "service.points_program"),
        "purposes[2].code: duplicate purpose code 'service.points_program' (first at purposes[1])",
    ),
    (
        "duplicate rule id",
        _set(("rules", 1, "id"), "informative_used_for_identification"),
        "rules[1].id: duplicate rule id 'informative_used_for_identification' (first at rules[0])",
    ),
    (
        "bad severity",
        _set(("rules", 0, "severity"), "urgent"),
        "rules[0].severity: unknown severity 'urgent'; expected one of low, medium, high, critical",
    ),
    (
        "bad mode",
        _set(("rules", 2, "mode"), "loud"),
        "rules[2].mode: unknown mode 'loud'; expected one of active, shadow",
    ),
    (
        "purpose code not category.sub",
        _set(("purposes", 3, "code"), "prize_fulfillment"),
        "purposes[3].code: purpose code 'prize_fulfillment' is not of the form category.sub",
    ),
    (
        "purpose of an undeclared category",
        _set(("purposes", 3, "code"), "billing.prizes"),
        "purposes[3].code: purpose category 'billing' is not declared in purpose_categories",
    ),
    (
        "bad element category",
        _set(("elements", 0, "category"), "secret"),
        "elements[0].category: unknown data category 'secret'; "
        "expected one of personal, informative",
    ),
    (
        "bad sensitivity",
        _set(("elements", 0, "sensitivity"), "extreme"),
        "elements[0].sensitivity: unknown sensitivity 'extreme'; "
        "expected one of normal, high, special",
    ),
    (
        "unknown consent flag",
        _add_rule(when={"consent": "marketing_ok"}),
        "rules[17].when.consent: unknown consent flag 'marketing_ok'; expected one of "
        "targeting_opt_out, publication_consent, payroll_other_use_consent",
    ),
    (
        "bad destination kind",
        _add_rule(when={"destination_in": ["PARTNER"]}),
        "rules[17].when.destination_in[0]: unknown destination kind 'PARTNER'; expected one of "
        "INTERNAL, GROUP_SERVICE, CLIENT, AD_PLATFORM, EMPLOYER, PUBLIC, FINANCIAL_INSTITUTION",
    ),
    (
        "unknown predicate",
        _add_rule(when={"all": [{"purpose_inn": ["service.points_program"]}]}),
        "rules[17].when.all[0].purpose_inn: unknown predicate 'purpose_inn'; "
        "did you mean 'purpose_in'?",
    ),
    (
        "unknown rule kind",
        _add_rule(kind="machine_learning"),
        "rules[17].kind: unknown rule kind 'machine_learning'; expected one of "
        "match, opted_out, consent_missing, reidentification",
    ),
    (
        "element predicate on the event",
        _add_rule(when={"category": "personal"}),
        "rules[17].when.category: 'category' asks about one element: use it in `select`, "
        "a filter parameter or inside any_element",
    ),
    (
        "unknown element in a rule",
        _add_rule(select={"element_in": ["user.contact.fax"]}),
        "rules[17].select.element_in[0]: unknown element 'user.contact.fax'",
    ),
    (
        "unknown purpose in a rule",
        _add_rule(when={"purpose_in": ["service.nope"]}),
        "rules[17].when.purpose_in[0]: unknown purpose 'service.nope' "
        "(use category.* for a whole category)",
    ),
    (
        "wildcard of an unknown purpose category",
        _add_rule(when={"purpose_not_in": ["billing.*"]}),
        "rules[17].when.purpose_not_in[0]: unknown purpose category in 'billing.*'",
    ),
    (
        "message placeholder outside the list",
        _add_rule(message="{user_name} was shared"),
        "rules[17].message: message placeholder {user_name} is not one of {actor}, "
        "{destination}, {elements}, {operation}, {origin}, {processing}, {purpose}, "
        "{record_count}, {service}, {window}",
    ),
    (
        "opted_out rule without its flag",
        _add_rule(kind="opted_out"),
        "rules[17].params.flag: is required",
    ),
    (
        "parameters on a match rule",
        _add_rule(params={"flag": "targeting_opt_out"}),
        "rules[17].params: rules of kind 'match' take no parameters",
    ),
    (
        "misspelt rule field",
        _add_rule(severty="low"),
        "rules[17].severty: unknown field; expected one of description, id, kind, message, "
        "mode, params, select, severity, when",
    ),
    ("missing top-level field", _drop("payroll_service"), "payroll_service: is required"),
    (
        "version written as a number",
        _set(("version",), 2026.11),
        "version: must be text, got the number 2026.11 (quote it)",
    ),
    (
        "bad re-identification window",
        _set(("reidentification_window",), "ten minutes"),
        "reidentification_window: 'ten minutes' is not a positive duration "
        "like 600, 90s, 10m or 1h",
    ),
    (
        "an element that is also a parent",
        _add_element("user.contact"),
        "elements[17].code: element 'user.contact' is also the parent of 'user.contact.address'; "
        "an element is a leaf of the tree",
    ),
]


@pytest.mark.parametrize(("name", "change", "problem"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_each_mistake_is_reported_with_its_location(
    name: str,
    change: Callable[[Document], None],
    problem: str,
    default_document: Document,
    policy_from: Callable[[Document], Policy],
) -> None:
    """One mistake gives exactly one problem, located by file and path in the document."""
    change(default_document)
    with pytest.raises(PolicyError) as caught:
        policy_from(default_document)
    assert [str(p) for p in caught.value.problems] == [f"policy.yaml: {problem}"]


def test_every_problem_is_reported_at_once(
    default_document: Document, policy_from: Callable[[Document], Policy]
) -> None:
    """Many mistakes in one file are all reported by one load."""
    picked = [m for m in MISTAKES if m[0] not in {"purpose of an undeclared category"}]
    for _, change, _ in picked:
        change(default_document)
    with pytest.raises(PolicyError) as caught:
        policy_from(default_document)
    reported = "\n".join(str(p) for p in caught.value.problems)
    for name, _, problem in picked:
        # appended rules and elements land at other indexes here: compare what follows the path
        assert problem.split(": ", 1)[1] in reported, name
    assert len(caught.value.problems) >= len(picked)


def test_policy_error_is_a_dua_error_listing_every_problem(
    default_document: Document, policy_from: Callable[[Document], Policy]
) -> None:
    """The exception's text lists each problem on its own line."""
    default_document["rules"][0]["severity"] = "urgent"
    default_document["rules"][1]["mode"] = "loud"
    with pytest.raises(DuaError) as caught:
        policy_from(default_document)
    text = str(caught.value)
    assert text.startswith("invalid policy (2 problems):")
    assert "policy.yaml: rules[0].severity" in text
    assert "policy.yaml: rules[1].mode" in text


def test_yaml_syntax_error_names_the_line() -> None:
    """Text that is not YAML is reported with its line and column."""
    with pytest.raises(PolicyError) as caught:
        parse_policy("version: '1'\nrules: [\n  - a: b\n", "broken.yaml")
    (problem,) = caught.value.problems
    assert str(problem).startswith("broken.yaml: line ")
    assert "not valid YAML" in str(problem)


def test_duplicate_yaml_keys_are_reported(default_text: str) -> None:
    """A key written twice is a problem, not a silent override."""
    text = default_text.replace(
        "payroll_service: airwork-payroll", "payroll_service: a\npayroll_service: b"
    )
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "policy.yaml")
    assert any("duplicate key 'payroll_service'" in str(p) for p in caught.value.problems)


def test_not_a_mapping() -> None:
    """A document that is a list is refused with a clear problem."""
    with pytest.raises(PolicyError, match="must be a mapping"):
        parse_policy("- 1\n- 2\n", "list.yaml")


def test_load_policy_names_the_file(tmp_path: Path, default_document: Document) -> None:
    """Problems of a file on disk carry its path; a missing file is a PolicyError too."""
    default_document["rules"][0]["severity"] = "urgent"
    path = tmp_path / "company.yaml"
    path.write_text(yaml.safe_dump(default_document, allow_unicode=True), "utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value.problems[0]).startswith(f"{path}: rules[0].severity")
    with pytest.raises(PolicyError, match="cannot read the policy file"):
        load_policy(tmp_path / "missing.yaml")


# -- hierarchical element codes ---------------------------------------------------------------


def test_parent_code_in_a_permitted_list_means_every_leaf_below(
    default_document: Document, policy_from: Callable[[Document], Policy]
) -> None:
    """`user.contact` in a permitted list permits phone, email and address."""
    default_document["purposes"][2]["permitted"] = ["user.name", "user.contact"]
    purpose = policy_from(default_document).purpose("service.inquiry_response")
    assert purpose is not None
    assert purpose.permitted == {
        "user.name",
        "user.contact.phone",
        "user.contact.email",
        "user.contact.address",
    }


def test_root_code_names_the_whole_catalog(
    default_document: Document, policy_from: Callable[[Document], Policy]
) -> None:
    """`user` is the parent of every element of the default catalog."""
    default_document["purposes"][0]["permitted"] = ["user"]
    policy = policy_from(default_document)
    purpose = policy.purpose("service.identity_verification")
    assert purpose is not None
    assert purpose.permitted == {e.code for e in policy.elements}
    assert not purpose.permits_all  # unlike `all`, codes the catalog lacks stay unpermitted


# -- the version hash -------------------------------------------------------------------------


def test_hash_ignores_comments_and_layout(default_text: str) -> None:
    """Comments and blank lines leave the policy version unchanged."""
    plain = parse_policy(default_text, "a.yaml")
    commented = parse_policy("# reviewed 2026-11-02\n\n" + default_text, "b.yaml")
    assert plain.version == commented.version


def test_hash_follows_content(
    default_document: Document, policy_from: Callable[[Document], Policy], policy: Policy
) -> None:
    """Changing a permission changes the version, though the declared version stays."""
    default_document["purposes"][1]["permitted"].append("user.contact.email")
    changed = policy_from(default_document)
    assert changed.declared_version == policy.declared_version
    assert changed.version != policy.version
