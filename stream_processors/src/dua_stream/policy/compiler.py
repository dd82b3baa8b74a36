"""Compiling a policy: each rule, specialised to the shape of an event, becomes a small plan.

An event's *shape* is everything the event-level predicates can ask: purpose, service and
origin (as far as the policy names them), cross-use, destination kind, operation, processing
and the consent flags rules mention. Shapes are few, so for each shape seen the compiler
evaluates every rule once, in set algebra over the catalog, and keeps only the rules that can
still fire, each reduced to element sets. Classifying an event then costs a dictionary lookup
and a few set-membership tests per element, whatever the size of the policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from dua_stream.policy.element_sets import ElementSet
from dua_stream.policy.model import All, Any_, Condition, Not, Policy, Predicate, Purpose, Rule
from dua_stream.policy.vocabulary import ANY_ELEMENT, PREDICATES, WILDCARD

MAX_SHAPES: Final = 65_536  # bounds memory; real traffic has far fewer shapes
UNKNOWN_PURPOSE: Final = "?"  # shape prefix for a purpose the policy lacks: "?" + its category


class Shape(NamedTuple):
    """What the event-level predicates see of an event (the cache key of a plan)."""

    purpose: str | None  # a policy purpose code, None when missing, "?<category>" when unknown
    service: str | None  # the service if the policy names it, else None
    origin: str | None  # the origin service (else the service) if the policy names it
    cross_use: bool
    destination: str
    operation: str
    processing: str
    consent: tuple[bool, ...]  # one per flag in `Compiler.consent_flags`


@dataclass(frozen=True, slots=True)
class RulePlan:
    """One rule for one shape: the element sets it needs, per truth of its `any_element` probes.

    `outcomes[bits]` is None when the rule cannot fire for that combination of probes, else
    the sets the rule kind works on (`select` for match/opted_out; `linkable` and
    `identifying` for reidentification).
    """

    rule: Rule
    probes: tuple[ElementSet, ...]
    outcomes: tuple[tuple[ElementSet, ...] | None, ...]


class Compiler:
    """The policy's lookups, and the plans of every shape seen so far."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.leaves = frozenset(e.code for e in policy.elements)
        self.every = ElementSet(self.leaves, True)
        self.nothing = ElementSet(frozenset(), False)
        self.purposes: dict[str, Purpose] = {p.code: p for p in policy.purposes}
        self.services = _named_services(policy)
        self.consent_flags = tuple(sorted(_consent_flags(policy)))
        self._by_category: dict[str, frozenset[str]] = {}
        self._by_sensitivity: dict[str, frozenset[str]] = {}
        for element in policy.elements:
            self._by_category.setdefault(element.category, frozenset())
            self._by_category[element.category] |= {element.code}
            self._by_sensitivity.setdefault(element.sensitivity, frozenset())
            self._by_sensitivity[element.sensitivity] |= {element.code}
        self._probes = {rule.id: tuple(dict.fromkeys(_probes_of(rule))) for rule in policy.rules}
        self._plans: dict[Shape, tuple[RulePlan, ...]] = {}

    def unknown_purpose_shape(self, purpose: str) -> str:
        """The shape of a purpose the policy lacks: its category counts for `category.*`."""
        category = purpose.partition(".")[0]
        return UNKNOWN_PURPOSE + (category if category in self.policy.purpose_categories else "")

    def plans(self, shape: Shape) -> tuple[RulePlan, ...]:
        """The rules that can fire for events of this shape, compiled for it."""
        found = self._plans.get(shape)
        if found is None:
            if len(self._plans) >= MAX_SHAPES:
                self._plans.clear()
            found = self._plans[shape] = tuple(self._compile(shape))
        return found

    def _compile(self, shape: Shape) -> Iterator[RulePlan]:
        for rule in self.policy.rules:
            probes = self._probes[rule.id]
            index = {probe: i for i, probe in enumerate(probes)}
            probe_sets = tuple(self._set(p, shape, 0, {}) for p in probes)
            outcomes = tuple(
                self._outcome(rule, shape, bits, index) for bits in range(1 << len(probes))
            )
            if any(o is not None for o in outcomes):
                yield RulePlan(rule, probe_sets, outcomes)

    def _outcome(
        self, rule: Rule, shape: Shape, bits: int, index: dict[Condition, int]
    ) -> tuple[ElementSet, ...] | None:
        if rule.when is not None and self._set(rule.when, shape, bits, index).empty:
            return None
        if rule.kind == "reidentification":
            sets = tuple(
                self._set(rule.params[name], shape, bits, index)
                for name in ("linkable", "identifying")
            )
            return None if all(s.empty for s in sets) else sets
        chosen = self.every if rule.select is None else self._set(rule.select, shape, bits, index)
        return None if chosen.empty else (chosen,)

    def _set(
        self, condition: Condition, shape: Shape, bits: int, index: dict[Condition, int]
    ) -> ElementSet:
        """The elements for which `condition` holds, for events of `shape` (event-level
        predicates give every element or none)."""
        if isinstance(condition, All):
            result = self.every
            for item in condition.items:
                result = result.intersect(self._set(item, shape, bits, index))
            return result
        if isinstance(condition, Any_):
            result = self.nothing
            for item in condition.items:
                result = result.union(self._set(item, shape, bits, index))
            return result
        if isinstance(condition, Not):
            return self._set(condition.item, shape, bits, index).complement(self.leaves)
        if condition.name == ANY_ELEMENT:
            return self.every if bits >> index[condition.argument] & 1 else self.nothing
        if PREDICATES[condition.name].scope == "element":
            return self._element_set(condition, shape)
        return self.every if self._holds(condition, shape) else self.nothing

    def _holds(self, predicate: Predicate, shape: Shape) -> bool:
        name, argument = predicate.name, predicate.argument
        if name in ("purpose_in", "purpose_not_in"):
            return _purpose_matches(shape.purpose, argument) == (name == "purpose_in")
        scope = self.policy.cross_use_scope
        facts: dict[str, Any] = {
            "purpose_known": shape.purpose is not None and shape.purpose in self.purposes,
            "operation_in": shape.operation,
            "processing_in": shape.processing,
            "destination_in": shape.destination,
            "service_in": shape.service,
            "origin_in": shape.origin,
            "cross_use": shape.cross_use,
            "service_in_scope": shape.service in scope,
            "origin_in_scope": shape.origin in scope,
            "origin_is_payroll_service": shape.origin == self.policy.payroll_service,
        }
        if name == "consent":
            return shape.consent[self.consent_flags.index(argument)]
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
            known = frozenset().union(*(self._by_category.get(c, frozenset()) for c in argument))
            return ElementSet(known, "unknown" in argument)
        if name == "sensitivity":
            known = frozenset().union(*(self._by_sensitivity.get(s, frozenset()) for s in argument))
            return ElementSet(known, False)
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


def _walk(condition: Condition | None) -> Iterator[Predicate]:
    if condition is None:
        return
    if isinstance(condition, All | Any_):
        for item in condition.items:
            yield from _walk(item)
    elif isinstance(condition, Not):
        yield from _walk(condition.item)
    else:
        yield condition
        if condition.name == ANY_ELEMENT:
            yield from _walk(condition.argument)


def _conditions(rule: Rule) -> Iterator[Condition | None]:
    yield rule.when
    yield rule.select
    for value in rule.params.values():
        if isinstance(value, Predicate | All | Any_ | Not):
            yield value


def _probes_of(rule: Rule) -> Iterator[Condition]:
    for condition in _conditions(rule):
        for predicate in _walk(condition):
            if predicate.name == ANY_ELEMENT:
                yield predicate.argument


def _consent_flags(policy: Policy) -> set[str]:
    return {
        str(p.argument)
        for rule in policy.rules
        for condition in _conditions(rule)
        for p in _walk(condition)
        if p.name == "consent"
    }


def _named_services(policy: Policy) -> frozenset[str]:
    """Services the policy names; any other service is the same as any other to a rule."""
    named = set(policy.cross_use_scope) | {policy.payroll_service}
    for rule in policy.rules:
        for condition in _conditions(rule):
            for p in _walk(condition):
                if p.name in ("service_in", "origin_in"):
                    named |= p.argument
    return frozenset(named)
