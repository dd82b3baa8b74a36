"""Compiling a policy: the rules, specialised to the shape of an event, as indexed plans.

An event's *shape* (`specializer.Shape`) is everything event-level predicates can ask:
purpose, service and origin (as far as the policy names them), cross-use, destination kind,
operation, processing and the consent flags rules mention. Shapes are few. For each shape
seen, every rule is evaluated once in set algebra over the catalog; rules that cannot fire
are dropped, and the element sets the others need become numbered *slots*, indexed by
element code. Classifying an event is then one dictionary lookup for its shape and one pass
over its element codes, whatever the size of the policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from typing import Final

from dua_policy.element_sets import ElementSet
from dua_policy.model import Condition, Policy, Rule
from dua_policy.provision import ProvisionDecider, Provisions, ShapeProvision
from dua_policy.specializer import Shape, Specializer, probes_of
from dua_policy.verdict import TaggedElement

MAX_SHAPES: Final = 16_384  # bounds memory; real traffic has far fewer shapes
MAX_REMEMBERED: Final = 65_536  # element lists remembered across all shapes
ShapeKey = tuple[
    str | None, str | None, str | None, bool, str, str, str, tuple[bool, ...], str | None, bool
]


@dataclass(frozen=True, slots=True)
class RulePlan:
    """One rule for one shape, in slots.

    `probes` are the slots of the rule's `any_element` filters; `outcomes[bits]` (bit i set
    when probe i matched some element) is None when the rule cannot fire, else the slots the
    rule kind works on: (`select`,) for match and opted_out, (`linkable`, `identifying`) for
    reidentification.
    """

    rule: Rule
    message: str  # the rule's template with its whitespace folded
    probes: tuple[int, ...]
    outcomes: tuple[tuple[int, ...] | None, ...]


@dataclass(frozen=True, slots=True)
class Step:
    """A rule that fires on an element list of a shape, or may, depending on state.

    Its fields are what the check needs: `flag` for OPTED_OUT (the consent flag the rule
    names), `linkable` and `identifying` for REIDENTIFICATION (which halves of the pattern
    this element list holds). A native per-event path reads them by these names.
    """

    plan: RulePlan
    involved: tuple[str, ...]
    check: int  # FIRES, OPTED_OUT or CONSENT_MISSING (consent decides), REIDENTIFICATION
    linkable: bool = False
    identifying: bool = False
    flag: str | None = None  # OPTED_OUT, CONSENT_MISSING: the consent flag


FIRES: Final = 0
OPTED_OUT: Final = 1
REIDENTIFICATION: Final = 2
CONSENT_MISSING: Final = 3


@dataclass(frozen=True, slots=True)
class ElementsPlan:
    """What a shape's rules make of one element list: the tagged elements and the steps."""

    tagged: tuple[TaggedElement, ...]
    steps: tuple[Step, ...]
    provisions: Provisions  # the APPI provision records (`dua_policy.provision`)


@dataclass(frozen=True, slots=True)
class ShapePlan:
    """The plans of one shape, the index from element code to the slots holding it, and the
    element lists seen with this shape (their `ElementsPlan`s)."""

    index: dict[str, tuple[int, ...]]  # every catalog code -> its slots
    unknown: tuple[int, ...]  # the slots holding codes the catalog lacks
    rules: tuple[RulePlan, ...]
    seen: dict[tuple[str, ...], ElementsPlan]
    provision: ShapeProvision | None  # None: the destination is no third party


class Compiler:
    """The plans of every shape seen so far, compiled on first sight."""

    def __init__(self, policy: Policy) -> None:
        self.specializer = Specializer(policy)
        self.policy = policy
        self._probes = {rule.id: probes_of(rule) for rule in policy.rules}
        self._messages = {rule.id: " ".join(rule.message.split()) for rule in policy.rules}
        self._provisions = ProvisionDecider(policy)
        self._tags = {
            e.code: TaggedElement(e.code, e.category, e.sensitivity) for e in policy.elements
        }
        self._plans: dict[ShapeKey, ShapePlan] = {}
        self._remembered = 0

    @property
    def plans(self) -> dict[ShapeKey, ShapePlan]:
        """The shapes compiled so far (the dict itself: it is cleared, never replaced)."""
        return self._plans

    def plan(self, key: ShapeKey) -> ShapePlan:
        """The compiled plan of a shape."""
        found = self._plans.get(key)
        if found is None:
            self._make_room()
            found = self._plans[key] = self._compile(Shape(*key))
        return found

    def elements_plan(self, plan: ShapePlan, elements: tuple[str, ...]) -> ElementsPlan:
        """The steps of a shape for an element list (remembered in `plan.seen`)."""
        self._make_room()
        codes = tuple(dict.fromkeys(elements))
        hits: dict[int, list[str]] = {}
        for code in codes:
            for slot in plan.index.get(code, plan.unknown):
                hits.setdefault(slot, []).append(code)
        steps = [s for s in (_step(rule_plan, hits) for rule_plan in plan.rules) if s is not None]
        tags = self._tags
        tagged = tuple(tags.get(c) or TaggedElement(c, "unknown", None) for c in codes)
        provisions = self._provisions.for_elements(plan.provision, tagged)
        found = plan.seen[elements] = ElementsPlan(tagged, tuple(steps), provisions)
        self._remembered += 1
        return found

    def _make_room(self) -> None:
        # memory stays bounded whatever arrives: forget everything, then relearn what recurs
        if self._remembered >= MAX_REMEMBERED or len(self._plans) >= MAX_SHAPES:
            self._plans.clear()
            self._remembered = 0

    def _compile(self, shape: Shape) -> ShapePlan:
        slots: dict[ElementSet, int] = {}

        def slot(elements: ElementSet) -> int:
            return slots.setdefault(elements, len(slots))

        rules = []
        for rule in self.policy.rules:
            probes = self._probes[rule.id]
            outcomes = tuple(self._outcomes(rule, shape, probes))
            if all(o is None for o in outcomes):
                continue
            probe_slots = tuple(slot(self.specializer.holds_for(p, shape, {})) for p in probes)
            slotted = tuple(None if o is None else tuple(slot(s) for s in o) for o in outcomes)
            rules.append(RulePlan(rule, self._messages[rule.id], probe_slots, slotted))
        index = {
            code: tuple(n for elements, n in slots.items() if code in elements.known)
            for code in self.specializer.leaves
        }
        unknown = tuple(n for elements, n in slots.items() if elements.unknown)
        provision = self._provisions.for_shape(shape.destination, shape.recipient)
        return ShapePlan(index, unknown, tuple(rules), {}, provision)

    def _outcomes(
        self, rule: Rule, shape: Shape, probes: tuple[Condition, ...]
    ) -> Iterator[tuple[ElementSet, ...] | None]:
        """For each truth assignment of the probes (bit i = probe i), the sets or None."""
        for truths in product((False, True), repeat=len(probes)):
            # product varies the last position fastest; bit i must be probe i
            assigned = dict(zip(probes, reversed(truths), strict=True))
            yield self._outcome(rule, shape, assigned)

    def _outcome(
        self, rule: Rule, shape: Shape, probes: dict[Condition, bool]
    ) -> tuple[ElementSet, ...] | None:
        holds = self.specializer.holds_for
        if rule.when is not None and holds(rule.when, shape, probes).empty:
            return None
        if rule.kind == "reidentification":
            sets = tuple(holds(rule.params[n], shape, probes) for n in ("linkable", "identifying"))
            return None if all(s.empty for s in sets) else sets
        chosen = (
            self.specializer.every if rule.select is None else holds(rule.select, shape, probes)
        )
        return None if chosen.empty else (chosen,)


def _step(plan: RulePlan, hits: dict[int, list[str]]) -> Step | None:
    """What the rule does with an element list whose slots hold `hits`."""
    bits = sum(1 << i for i, probe in enumerate(plan.probes) if probe in hits)
    slots = plan.outcomes[bits]
    if slots is None:
        return None
    if plan.rule.kind == "reidentification":
        linkable, identifying = hits.get(slots[0], []), hits.get(slots[1], [])
        if not (linkable or identifying):
            return None
        involved = tuple(dict.fromkeys(linkable + identifying))
        return Step(plan, involved, REIDENTIFICATION, bool(linkable), bool(identifying))
    chosen = hits.get(slots[0])
    if not chosen:
        return None
    if plan.rule.kind == "opted_out":
        return Step(plan, tuple(chosen), OPTED_OUT, flag=plan.rule.params["flag"])
    if plan.rule.kind == "consent_missing":
        return Step(plan, tuple(chosen), CONSENT_MISSING, flag=plan.rule.params["flag"])
    return Step(plan, tuple(chosen), FIRES)
