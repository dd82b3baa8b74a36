"""The element catalog and its tree: a parent code (`user.contact`) names every leaf below it.

Only catalog entries are elements; their dotted prefixes are the parents a policy may name
wherever it lists elements (permitted lists, rule element sets).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from dua_policy.document import Problems, child
from dua_policy.model import DATA_CATEGORY_CODES, SENSITIVITIES, Element, Label

ELEMENT_CODE: Final = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class ElementTree:
    """Leaves (the catalog) and the parents their codes imply."""

    def __init__(self, leaves: Iterable[str]) -> None:
        self.leaves = frozenset(leaves)
        below: dict[str, set[str]] = {}
        for leaf in self.leaves:
            parts = leaf.split(".")
            for depth in range(1, len(parts) + 1):
                below.setdefault(".".join(parts[:depth]), set()).add(leaf)
        self._below = {node: frozenset(codes) for node, codes in below.items()}

    def resolve(self, node: str) -> frozenset[str] | None:
        """Every leaf at or below `node`; None when the tree has no such node."""
        return self._below.get(node)


def parse_label(problems: Problems, value: Any, path: str) -> Label | None:
    """A `{ja: ..., en: ...}` mapping."""
    mapping = problems.mapping(value, path)
    if mapping is None:
        return None
    problems.keys(mapping, path, ("ja", "en"), ())
    ja = problems.text(mapping.get("ja"), child(path, "ja")) if "ja" in mapping else None
    en = problems.text(mapping.get("en"), child(path, "en")) if "en" in mapping else None
    return Label(ja, en) if ja is not None and en is not None else None


def declared_codes(value: Any, pattern: re.Pattern[str]) -> list[str]:
    """The well-formed `code` fields of a list of mappings, even of entries with other
    problems: a later reference to them must not be reported as unknown as well."""
    if not isinstance(value, list):
        return []
    return [
        item["code"]
        for item in value
        if isinstance(item, Mapping) and isinstance(item.get("code"), str)
        if pattern.match(item["code"])
    ]


def parse_elements(problems: Problems, value: Any, path: str) -> tuple[Element, ...]:
    """The `elements` list; duplicates and leaves that are also parents are problems."""
    items = problems.sequence(value, path)
    if items is None:
        return ()
    repeated = problems.duplicates(items, path, "code", "element code")
    elements: list[Element] = []
    first_at: dict[str, str] = {}
    for index, item in enumerate(items):
        where = child(path, index)
        element = _parse_element(problems, item, where)
        if element is not None and index not in repeated:
            first_at[element.code] = where
            elements.append(element)
    codes = {e.code for e in elements}
    for element in elements:
        parents = [c for c in codes if c.startswith(element.code + ".")]
        if parents:
            problems.add(
                child(first_at[element.code], "code"),
                f"element {element.code!r} is also the parent of {sorted(parents)[0]!r}; "
                "an element is a leaf of the tree",
            )
    return tuple(elements)


def _parse_element(problems: Problems, item: Any, path: str) -> Element | None:
    mapping = problems.mapping(item, path)
    if mapping is None:
        return None
    problems.keys(mapping, path, ("code", "category", "sensitivity", "label"), ())
    code = problems.text(mapping.get("code"), child(path, "code")) if "code" in mapping else None
    if code is not None and not ELEMENT_CODE.match(code):
        problems.add(
            child(path, "code"), f"{code!r} is not a dotted lower-case code like user.name"
        )
        code = None
    category = sensitivity = None
    if "category" in mapping:
        category = problems.choice(
            mapping["category"], child(path, "category"), DATA_CATEGORY_CODES, "data category"
        )
    if "sensitivity" in mapping:
        sensitivity = problems.choice(
            mapping["sensitivity"], child(path, "sensitivity"), SENSITIVITIES, "sensitivity"
        )
    label = (
        parse_label(problems, mapping["label"], child(path, "label"))
        if "label" in mapping
        else None
    )
    if code is None or category is None or sensitivity is None or label is None:
        return None
    return Element(code, category, sensitivity, label)


def parse_element_set(
    problems: Problems, tree: ElementTree, value: Any, path: str
) -> frozenset[str] | None:
    """A list of element codes or parents, resolved to the catalog leaves they name."""
    items = problems.sequence(value, path)
    if items is None:
        return None
    leaves: set[str] = set()
    ok = True
    for index, item in enumerate(items):
        where = child(path, index)
        code = problems.text(item, where)
        if code is None:
            ok = False
            continue
        resolved = tree.resolve(code)
        if resolved is None:
            problems.add(where, f"unknown element {code!r}")
            ok = False
            continue
        leaves |= resolved
    return frozenset(leaves) if ok else None


def parse_data_categories(problems: Problems, value: Any, path: str) -> dict[str, Label]:
    """Labels of the data categories; exactly `personal` and `informative`."""
    mapping: Mapping[str, Any] | None = problems.mapping(value, path)
    if mapping is None:
        return {}
    problems.keys(mapping, path, DATA_CATEGORY_CODES, ())
    labels = {}
    for code in DATA_CATEGORY_CODES:
        if code in mapping:
            label = parse_label(problems, mapping[code], child(path, code))
            if label is not None:
                labels[code] = label
    return labels
