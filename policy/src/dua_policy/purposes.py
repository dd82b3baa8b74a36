"""Purpose categories and purposes, with the elements each purpose may use."""

from __future__ import annotations

import re
from typing import Any, Final

from dua_policy.catalog import ElementTree, parse_element_set, parse_label
from dua_policy.document import Problems, child
from dua_policy.model import Label, Purpose

PURPOSE_CODE: Final = re.compile(r"^([a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*$")
CATEGORY_CODE: Final = re.compile(r"^[a-z][a-z0-9_]*$")
PERMITS_ALL: Final = "all"  # `permitted: all`: the purpose may use every element


def parse_purpose_categories(problems: Problems, value: Any, path: str) -> dict[str, Label]:
    """`purpose_categories`: category code -> label."""
    mapping = problems.mapping(value, path)
    if mapping is None:
        return {}
    labels = {}
    for code, item in mapping.items():
        where = child(path, code)
        if not CATEGORY_CODE.match(code):
            problems.add(where, f"{code!r} is not a lower-case category code like service")
            continue
        label = parse_label(problems, item, where)
        if label is not None:
            labels[code] = label
    return labels


def parse_purposes(
    problems: Problems,
    value: Any,
    path: str,
    categories: dict[str, Label],
    tree: ElementTree,
) -> tuple[Purpose, ...]:
    """The `purposes` list; codes are `category.sub` with a declared category."""
    items = problems.sequence(value, path)
    if items is None:
        return ()
    repeated = problems.duplicates(items, path, "code", "purpose code")
    purposes: list[Purpose] = []
    for index, item in enumerate(items):
        purpose = _parse_purpose(problems, item, child(path, index), categories, tree)
        if purpose is not None and index not in repeated:
            purposes.append(purpose)
    return tuple(purposes)


def _parse_purpose(
    problems: Problems, item: Any, path: str, categories: dict[str, Label], tree: ElementTree
) -> Purpose | None:
    mapping = problems.mapping(item, path)
    if mapping is None:
        return None
    problems.keys(mapping, path, ("code", "label", "permitted"), ("note",))
    code = category = None
    if "code" in mapping:
        code = problems.text(mapping["code"], child(path, "code"))
        matched = PURPOSE_CODE.match(code) if code is not None else None
        if code is not None and matched is None:
            problems.add(
                child(path, "code"),
                f"purpose code {code!r} is not of the form category.sub",
            )
            code = None
        elif matched is not None:
            category = matched.group(1)
            if category not in categories:
                problems.add(
                    child(path, "code"),
                    f"purpose category {category!r} is not declared in purpose_categories",
                )
                code = None
    label = (
        parse_label(problems, mapping["label"], child(path, "label"))
        if "label" in mapping
        else None
    )
    note = problems.text(mapping["note"], child(path, "note")) if "note" in mapping else None
    permitted: frozenset[str] | None = None
    permits_all = False
    if "permitted" in mapping:
        raw = mapping["permitted"]
        if raw == PERMITS_ALL:
            permitted, permits_all = tree.leaves, True
        elif isinstance(raw, str):
            problems.add(child(path, "permitted"), f"must be a list of elements or {PERMITS_ALL!r}")
        else:
            permitted = parse_element_set(problems, tree, raw, child(path, "permitted"))
    if code is None or category is None or label is None or permitted is None:
        return None
    return Purpose(code, category, label, permitted, permits_all, note)
