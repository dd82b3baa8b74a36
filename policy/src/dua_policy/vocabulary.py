"""The fixed vocabulary of predicates a rule may use, and how each argument is read.

Three scopes:

- `event`: depends only on the event's fields (purpose, service, origin, destination kind,
  operation, processing, consent flags). The compiler resolves these ahead of time.
- `element`: asks about one element (its code, category, sensitivity, whether the event's
  purpose permits it). In `select`, the rule's finding lists the elements that match.
- `elements`: `any_element: <element filter>`, true when some element of the event matches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from dua_policy.catalog import ElementTree, parse_element_set
from dua_policy.document import Problems, child
from dua_policy.model import DATA_CATEGORY_CODES, SENSITIVITIES, Label
from dua_schemas import CONSENT_FLAGS, DESTINATION_KINDS, OPERATIONS, PROCESSING_STATES

Scope = Literal["event", "element", "elements"]
ELEMENT_CATEGORIES: Final = (*DATA_CATEGORY_CODES, "unknown")
WILDCARD: Final = ".*"  # `marketing.*`: every purpose of the category, known or not


@dataclass(frozen=True, slots=True)
class Names:
    """What an argument may refer to: the policy's own catalog, purposes and categories."""

    tree: ElementTree
    purposes: frozenset[str]
    purpose_categories: Mapping[str, Label]


ArgumentReader = Callable[[Problems, Names, Any, str], Any]


@dataclass(frozen=True, slots=True)
class PredicateSpec:
    """A predicate of the vocabulary: its name, scope and argument reader."""

    name: str
    scope: Scope
    read: ArgumentReader
    doc: str


def _boolean(problems: Problems, _names: Names, value: Any, path: str) -> Any:
    return problems.boolean(value, path)


def _symbols(allowed: tuple[str, ...], what: str) -> ArgumentReader:
    def read(problems: Problems, _names: Names, value: Any, path: str) -> Any:
        items = [value] if isinstance(value, str) else problems.sequence(value, path)
        if items is None:
            return None
        found: set[str] = set()
        ok = True
        for index, item in enumerate(items):
            where = path if isinstance(value, str) else child(path, index)
            symbol = problems.choice(item, where, allowed, what)
            ok = ok and symbol is not None
            if symbol is not None:
                found.add(symbol)
        return frozenset(found) if ok else None

    return read


def _flag(problems: Problems, _names: Names, value: Any, path: str) -> Any:
    return problems.choice(value, path, CONSENT_FLAGS, "consent flag")


def _services(problems: Problems, _names: Names, value: Any, path: str) -> Any:
    items = problems.sequence(value, path)
    if items is None:
        return None
    found = [problems.text(item, child(path, i)) for i, item in enumerate(items)]
    return None if None in found else frozenset(s for s in found if s is not None)


def _purposes(problems: Problems, names: Names, value: Any, path: str) -> Any:
    items = problems.sequence(value, path)
    if items is None:
        return None
    found: set[str] = set()
    ok = True
    for index, item in enumerate(items):
        where = child(path, index)
        code = problems.text(item, where)
        if code is None:
            ok = False
        elif code.endswith(WILDCARD):
            if code[: -len(WILDCARD)] not in names.purpose_categories:
                problems.add(where, f"unknown purpose category in {code!r}")
                ok = False
            found.add(code)
        elif code not in names.purposes:
            problems.add(where, f"unknown purpose {code!r} (use category.* for a whole category)")
            ok = False
        else:
            found.add(code)
    return frozenset(found) if ok else None


def _elements(problems: Problems, names: Names, value: Any, path: str) -> Any:
    return parse_element_set(problems, names.tree, value, path)


PREDICATES: Final[dict[str, PredicateSpec]] = {
    spec.name: spec
    for spec in (
        PredicateSpec("purpose_in", "event", _purposes, "the purpose is one of these"),
        PredicateSpec("purpose_not_in", "event", _purposes, "the purpose is none of these"),
        PredicateSpec("purpose_known", "event", _boolean, "the purpose is a code of the policy"),
        PredicateSpec("operation_in", "event", _symbols(OPERATIONS, "operation"), "operation"),
        PredicateSpec(
            "processing_in", "event", _symbols(PROCESSING_STATES, "processing"), "processing"
        ),
        PredicateSpec(
            "destination_in",
            "event",
            _symbols(DESTINATION_KINDS, "destination kind"),
            "the destination kind is one of these",
        ),
        PredicateSpec("consent", "event", _flag, "the event carries this consent flag"),
        PredicateSpec("service_in", "event", _services, "the emitting service is one of these"),
        PredicateSpec(
            "origin_in", "event", _services, "the origin service (else the service) is one of these"
        ),
        PredicateSpec(
            "cross_use", "event", _boolean, "the origin service differs from the service"
        ),
        PredicateSpec(
            "service_in_scope", "event", _boolean, "the service is in the cross-use scope"
        ),
        PredicateSpec(
            "origin_in_scope", "event", _boolean, "the origin service is in the cross-use scope"
        ),
        PredicateSpec(
            "origin_is_payroll_service",
            "event",
            _boolean,
            "the data comes from the payroll service",
        ),
        PredicateSpec(
            "recipient_registered",
            "event",
            _boolean,
            "the policy declares the destination's name as a recipient of its kind",
        ),
        PredicateSpec(
            "recipient_links_informative",
            "event",
            _boolean,
            "the declared recipient can link informative data to a person",
        ),
        PredicateSpec(
            "record_count_above_threshold",
            "event",
            _boolean,
            "record_count is above the policy's threshold for the purpose",
        ),
        PredicateSpec(
            "element_in", "element", _elements, "the element is at or below one of these"
        ),
        PredicateSpec("element_not_in", "element", _elements, "the element is below none of these"),
        PredicateSpec(
            "category", "element", _symbols(ELEMENT_CATEGORIES, "data category"), "its category"
        ),
        PredicateSpec(
            "sensitivity", "element", _symbols(SENSITIVITIES, "sensitivity"), "its sensitivity"
        ),
        PredicateSpec("known_element", "element", _boolean, "the catalog defines the element"),
        PredicateSpec(
            "permitted_for_purpose",
            "element",
            _boolean,
            "the event's (known) purpose permits the element",
        ),
    )
}
ANY_ELEMENT: Final = "any_element"  # scope `elements`; its argument is an element filter
COMBINATORS: Final = ("all", "any", "not")
