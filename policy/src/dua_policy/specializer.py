"""Partial evaluation of conditions: for one event shape, the set of elements a condition
holds for. Event-level predicates are decided by the shape (every element or none); element
predicates become sets of catalog leaves (plus "codes the catalog lacks")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final, NamedTuple

from dua_policy.element_sets import ElementSet
from dua_policy.model import All, Any_, Condition, Not, Policy, Predicate, Purpose, Rule
from dua_policy.vocabulary import ANY_ELEMENT, PREDICATES, WILDCARD

UNKNOWN_PURPOSE: Final = "?"  # shape prefix for a purpose the policy lacks: "?" + its category


class Shape(NamedTuple):
    """What the event-level predicates see of an event (the cache key of its plans)."""

    purpose: str | None  # a policy purpose code, None when missing, "?<category>" when unknown
    service: str | None  # the service if the policy names it, else None
    origin: str | None  # the origin service (else the service) if the policy names it
    cross_use: bool
    destination: str
    operation: str
    processing: str
    consent: tuple[bool, ...]  # one per flag in `Specializer.consent_flags`
    recipient: str | None  # the destination's name when declared a recipient of its kind
    bulk: bool  # record_count above the threshold for the purpose


class Specializer:
    """Evaluates a policy's conditions for a given shape, in set algebra over the catalog."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.leaves = frozenset(e.code for e in policy.elements)
        self.every = ElementSet(self.leaves, True)
        self.nothing = ElementSet(frozenset(), False)
        self.purposes: dict[str, Purpose] = {p.code: p for p in policy.purposes}
        self.services = named_services(policy)
        self.consent_flags = tuple(sorted(consent_flags(policy)))
        self._by_category: dict[str, set[str]] = {}
        self._by_sensitivity: dict[str, set[str]] = {}
        for element in policy.elements:
            self._by_category.setdefault(element.category, set()).add(element.code)
            self._by_sensitivity.setdefault(element.sensitivity, set()).add(element.code)

    def unknown_purpose_shape(self, purpose: str) -> str:
        """The shape of a purpose the policy lacks: its category counts for `category.*`."""
        category = purpose.partition(".")[0]
        return UNKNOWN_PURPOSE + (category if category in self.policy.purpose_categories else "")

    def holds_for(
        self, condition: Condition, shape: Shape, probes: dict[Condition, bool]
    ) -> ElementSet:
        """The elements for which `condition` holds, given the truth of its `any_element`s."""
        if isinstance(condition, All):
            result = self.every
            for item in condition.items:
                result = result.intersect(self.holds_for(item, shape, probes))
            return result
        if isinstance(condition, Any_):
            result = self.nothing
            for item in condition.items:
                result = result.union(self.holds_for(item, shape, probes))
            return result
        if isinstance(condition, Not):
            return self.holds_for(condition.item, shape, probes).complement(self.leaves)
        if condition.name == ANY_ELEMENT:
            return self.every if probes[condition.argument] else self.nothing
        if PREDICATES[condition.name].scope == "element":
            return self._element_set(condition, shape)
        return self.every if self._holds(condition, shape) else self.nothing

    def _holds(self, predicate: Predicate, shape: Shape) -> bool:
        name, argument = predicate.name, predicate.argument
        if name in ("purpose_in", "purpose_not_in"):
            return _purpose_matches(shape.purpose, argument) == (name == "purpose_in")
        if name == "consent":
            return shape.consent[self.consent_flags.index(argument)]
        scope = self.policy.cross_use_scope
        facts: dict[str, Any] = {
            "purpose_known": shape.purpose in self.purposes,
            "operation_in": shape.operation,
            "processing_in": shape.processing,
            "destination_in": shape.destination,
            "service_in": shape.service,
            "origin_in": shape.origin,
            "cross_use": shape.cross_use,
            "service_in_scope": shape.service in scope,
            "origin_in_scope": shape.origin in scope,
            "origin_is_payroll_service": shape.origin == self.policy.payroll_service,
            "recipient_registered": shape.recipient is not None,
            "recipient_links_informative": bool(
                (found := self.policy.recipient(shape.destination, shape.recipient))
                and found.links_informative
            ),
            "record_count_above_threshold": shape.bulk,
        }
        fact = facts[name]
        if isinstance(argument, frozenset):
            return fact in argument
        return bool(fact == argument)

    def _element_set(self, predicate: Predicate, shape: Shape) -> ElementSet:
        name, argument = predicate.name, predicate.argument
        if name == "element_in":
            return ElementSet(argument, False)
        if name == "element_not_in":
            return ElementSet(argument, False).complement(self.leaves)
        if name == "category":
            known = set().union(*(self._by_category.get(c, set()) for c in argument))
            return ElementSet(frozenset(known), "unknown" in argument)
        if name == "sensitivity":
            known = set().union(*(self._by_sensitivity.get(s, set()) for s in argument))
            return ElementSet(frozenset(known), False)
        if name == "known_element":
            return ElementSet(self.leaves, False) if argument else ElementSet(frozenset(), True)
        # permitted_for_purpose
        purpose = self.purposes.get(shape.purpose or "")
        permitted = ElementSet(purpose.permitted, purpose.permits_all) if purpose else self.nothing
        return permitted if argument else permitted.complement(self.leaves)


def _purpose_matches(purpose: str | None, codes: frozenset[str]) -> bool:
    if purpose is None:
        return False
    if purpose.startswith(UNKNOWN_PURPOSE):
        category = purpose[len(UNKNOWN_PURPOSE) :]
        return bool(category) and category + WILDCARD in codes
    return purpose in codes or purpose.partition(".")[0] + WILDCARD in codes


def walk(condition: Condition | None) -> Iterator[Predicate]:
    """Every predicate in a condition, including those inside `any_element`."""
    if condition is None:
        return
    if isinstance(condition, All | Any_):
        for item in condition.items:
            yield from walk(item)
    elif isinstance(condition, Not):
        yield from walk(condition.item)
    else:
        yield condition
        if condition.name == ANY_ELEMENT:
            yield from walk(condition.argument)


def conditions_of(rule: Rule) -> Iterator[Condition | None]:
    """`when`, `select` and the element-filter parameters of a rule."""
    yield rule.when
    yield rule.select
    for value in rule.params.values():
        if isinstance(value, Predicate | All | Any_ | Not):
            yield value


def probes_of(rule: Rule) -> tuple[Condition, ...]:
    """The element filters of the rule's `any_element` predicates, each once, in order."""
    found = (p.argument for c in conditions_of(rule) for p in walk(c) if p.name == ANY_ELEMENT)
    return tuple(dict.fromkeys(found))


def consent_flags(policy: Policy) -> set[str]:
    """The consent flags the rules' `consent` predicates ask about."""
    return {
        str(p.argument)
        for rule in policy.rules
        for condition in conditions_of(rule)
        for p in walk(condition)
        if p.name == "consent"
    }


def named_services(policy: Policy) -> frozenset[str]:
    """Services the policy names; every other service is the same as any other to a rule."""
    named = set(policy.cross_use_scope) | {policy.payroll_service}
    for rule in policy.rules:
        for condition in conditions_of(rule):
            for p in walk(condition):
                if p.name in ("service_in", "origin_in"):
                    named |= p.argument
    return frozenset(named)
