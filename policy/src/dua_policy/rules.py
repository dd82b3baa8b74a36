"""Reading rules: id, kind, severity, mode, message, conditions and kind parameters."""

from __future__ import annotations

import difflib
import re
from typing import Any, Final

from dua_policy.document import Problems, child
from dua_policy.messages import template_problems
from dua_policy.model import RULE_KINDS, All, Any_, Condition, Not, Predicate, Rule
from dua_policy.vocabulary import ANY_ELEMENT, COMBINATORS, PREDICATES, Names
from dua_schemas import CONSENT_CHANGE_FLAGS, RULE_MODES, SEVERITIES

RULE_ID: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_RULE_FIELDS: Final = ("id", "severity", "mode", "message")
_OPTIONAL_FIELDS: Final = ("kind", "description", "when", "select", "params")
# kind -> (required params, optional params); every param but `flag` is an element filter
_KIND_PARAMS: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "match": ((), ()),
    "opted_out": (("flag",), ()),
    "consent_missing": (("flag",), ()),
    "reidentification": (("linkable", "identifying"), ()),
}


def parse_condition(
    problems: Problems, names: Names, value: Any, path: str, *, element: bool, nested: bool = False
) -> Condition | None:
    """A condition tree; `element` allows element predicates (in `select` and filters)."""
    mapping = problems.mapping(value, path)
    if mapping is None:
        return None
    if not mapping:
        problems.add(path, "an empty condition; name a predicate or all/any/not")
        return None
    if len(mapping) > 1:  # several predicates side by side read as `all`
        parts = [
            parse_condition(problems, names, {k: v}, path, element=element, nested=nested)
            for k, v in mapping.items()
        ]
        return None if None in parts else All(tuple(p for p in parts if p is not None))
    ((name, argument),) = mapping.items()
    where = child(path, name)
    if name in ("all", "any"):
        items = problems.sequence(argument, where)
        if items is None:
            return None
        parts = [
            parse_condition(problems, names, item, child(where, i), element=element, nested=nested)
            for i, item in enumerate(items)
        ]
        if None in parts:
            return None
        conditions = tuple(p for p in parts if p is not None)
        return All(conditions) if name == "all" else Any_(conditions)
    if name == "not":
        inner = parse_condition(problems, names, argument, where, element=element, nested=nested)
        return None if inner is None else Not(inner)
    if name == ANY_ELEMENT:
        if nested:
            problems.add(where, f"{ANY_ELEMENT} cannot be nested inside another {ANY_ELEMENT}")
            return None
        inner = parse_condition(problems, names, argument, where, element=True, nested=True)
        return None if inner is None else Predicate(ANY_ELEMENT, inner)
    spec = PREDICATES.get(name)
    if spec is None:
        known = sorted([*PREDICATES, ANY_ELEMENT, *COMBINATORS])
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(known)}"
        problems.add(where, f"unknown predicate {name!r}; {hint}")
        return None
    if spec.scope == "element" and not element:
        problems.add(
            where,
            f"{name!r} asks about one element: use it in `select`, a filter parameter "
            f"or inside {ANY_ELEMENT}",
        )
        return None
    parsed = spec.read(problems, names, argument, where)
    return None if parsed is None else Predicate(name, parsed)


def parse_rules(problems: Problems, names: Names, value: Any, path: str) -> tuple[Rule, ...]:
    """The `rules` list; rule ids are unique."""
    items = problems.sequence(value, path)
    if items is None:
        return ()
    repeated = problems.duplicates(items, path, "id", "rule id")
    rules: list[Rule] = []
    for index, item in enumerate(items):
        rule = _parse_rule(problems, names, item, child(path, index))
        if rule is not None and index not in repeated:
            rules.append(rule)
    return tuple(rules)


def _parse_rule(problems: Problems, names: Names, item: Any, path: str) -> Rule | None:
    mapping = problems.mapping(item, path)
    if mapping is None:
        return None
    before = len(problems.found)
    problems.keys(mapping, path, _RULE_FIELDS, _OPTIONAL_FIELDS)
    rule_id = problems.text(mapping.get("id"), child(path, "id")) if "id" in mapping else None
    if rule_id is not None and not RULE_ID.match(rule_id):
        problems.add(child(path, "id"), f"rule id {rule_id!r} must be lower_snake_case")
    kind = problems.choice(
        mapping.get("kind", "match"), child(path, "kind"), RULE_KINDS, "rule kind"
    )
    if "severity" in mapping:
        problems.choice(mapping["severity"], child(path, "severity"), SEVERITIES, "severity")
    if "mode" in mapping:
        problems.choice(mapping["mode"], child(path, "mode"), RULE_MODES, "mode")
    if "message" in mapping:
        message = problems.text(mapping["message"], child(path, "message"))
        for problem in template_problems(message or ""):
            problems.add(child(path, "message"), problem)
    if "description" in mapping:
        problems.text(mapping["description"], child(path, "description"))
    when = select = None
    if "when" in mapping:
        when = parse_condition(problems, names, mapping["when"], child(path, "when"), element=False)
    if "select" in mapping and kind == "reidentification":
        problems.add(
            child(path, "select"),
            "reidentification rules pick elements with params.linkable and params.identifying",
        )
    elif "select" in mapping:
        select = parse_condition(
            problems, names, mapping["select"], child(path, "select"), element=True
        )
    params = _parse_params(problems, names, kind, mapping.get("params", {}), child(path, "params"))
    if len(problems.found) > before:
        return None
    return Rule(
        id=mapping["id"],
        kind=mapping.get("kind", "match"),
        severity=mapping["severity"],
        mode=mapping["mode"],
        message=mapping["message"],
        when=when,
        select=select,
        params=params,
        description=mapping.get("description"),
    )


def _parse_params(
    problems: Problems, names: Names, kind: str | None, value: Any, path: str
) -> dict[str, Any]:
    mapping = problems.mapping(value, path)
    if mapping is None or kind is None:
        return {}
    required, optional = _KIND_PARAMS[kind]
    if not required and not optional and mapping:
        problems.add(path, f"rules of kind {kind!r} take no parameters")
        return {}
    problems.keys(mapping, path, required, optional)
    params: dict[str, Any] = {}
    for name in (*required, *optional):
        if name not in mapping:
            continue
        if name == "flag":
            params[name] = problems.choice(
                mapping[name], child(path, name), CONSENT_CHANGE_FLAGS, "consent flag"
            )
        else:
            params[name] = parse_condition(
                problems, names, mapping[name], child(path, name), element=True
            )
    return params
