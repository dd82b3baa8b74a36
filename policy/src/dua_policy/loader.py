"""`load_policy` / `parse_policy`: YAML text to a validated `Policy`, or every problem at once."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml

from dua_policy.catalog import (
    ELEMENT_CODE,
    ElementTree,
    declared_codes,
    parse_data_categories,
    parse_elements,
)
from dua_policy.document import Problems, child
from dua_policy.errors import PolicyError
from dua_policy.model import Policy
from dua_policy.purposes import PURPOSE_CODE, parse_purpose_categories, parse_purposes
from dua_policy.recipients import parse_recipients
from dua_policy.record_counts import RecordCountThresholds, parse_thresholds
from dua_policy.rules import parse_rules
from dua_policy.vocabulary import Names

DEFAULT_POLICY: Final = "default_policy.yaml"
HASH_LENGTH: Final = 8
_REQUIRED: Final = (
    "version",
    "data_categories",
    "purpose_categories",
    "elements",
    "purposes",
    "cross_use_scope",
    "payroll_service",
    "reidentification_window",
    "rules",
)
_OPTIONAL: Final = ("description", "recipients", "record_count_thresholds")
_DURATION: Final = re.compile(r"^\s*(\d+)\s*(s|m|h)\s*$")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600}


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path`, or the shipped default when None; raises `PolicyError`."""
    if path is None:
        text = resources.files("dua_policy").joinpath(DEFAULT_POLICY).read_text("utf-8")
        return parse_policy(text, DEFAULT_POLICY)
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems = Problems(str(path))
        problems.add("", f"cannot read the policy file: {exc}")
        raise PolicyError(problems.found) from exc
    return parse_policy(text, str(path))


def parse_policy(text: str, source: str) -> Policy:
    """Parse and validate policy YAML; `source` names it in problem locations."""
    problems = Problems(source)
    document = _read_yaml(text, problems)
    if document is None:
        raise PolicyError(problems.found)
    policy = _build(document, problems)
    if problems.found or policy is None:
        raise PolicyError(problems.found)
    return policy


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that notes duplicate keys instead of letting the last one win."""

    duplicates: list[str]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int) and key in seen:
                mark = key_node.start_mark
                self.duplicates.append(f"line {mark.line + 1}: duplicate key {key!r}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(text: str, problems: Problems) -> Any:
    loader = _StrictLoader(text)
    loader.duplicates = []
    try:
        document = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.add(where, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")
        return None
    finally:
        loader.dispose()
    for duplicate in loader.duplicates:
        problems.add("", duplicate)
    if problems.mapping(document, "") is None:
        return None
    return document


def _build(document: dict[str, Any], problems: Problems) -> Policy | None:
    problems.keys(document, "", _REQUIRED, _OPTIONAL)
    version = problems.text(document.get("version"), "version") if "version" in document else None
    data_categories = parse_data_categories(
        problems, document.get("data_categories", {}), "data_categories"
    )
    purpose_categories = parse_purpose_categories(
        problems, document.get("purpose_categories", {}), "purpose_categories"
    )
    elements = parse_elements(problems, document.get("elements", []), "elements")
    # references are checked against every well-formed code, so that one broken element is
    # reported once, not again at each place that names it
    tree = ElementTree(declared_codes(document.get("elements"), ELEMENT_CODE))
    purposes = parse_purposes(
        problems, document.get("purposes", []), "purposes", purpose_categories, tree
    )
    scope = _services(problems, document.get("cross_use_scope", []), "cross_use_scope")
    payroll = None
    if "payroll_service" in document:
        payroll = problems.text(document["payroll_service"], "payroll_service")
    window = None
    if "reidentification_window" in document:
        window = _duration(problems, document["reidentification_window"], "reidentification_window")
    declared = declared_codes(document.get("purposes"), PURPOSE_CODE)
    names = Names(tree, frozenset(declared), purpose_categories)
    rules = parse_rules(problems, names, document.get("rules", []), "rules")
    recipients = parse_recipients(problems, document.get("recipients", []), "recipients")
    thresholds = RecordCountThresholds()
    if "record_count_thresholds" in document:
        thresholds = parse_thresholds(
            problems,
            document["record_count_thresholds"],
            "record_count_thresholds",
            frozenset(declared),
        )
    if problems.found or version is None or payroll is None or window is None:
        return None
    content_hash = _content_hash(document)
    return Policy(
        version=f"{version}+{content_hash}",
        declared_version=version,
        content_hash=content_hash,
        source=problems.source,
        data_categories=data_categories,
        purpose_categories=purpose_categories,
        elements=elements,
        purposes=purposes,
        cross_use_scope=scope,
        payroll_service=payroll,
        reidentification_window=window,
        rules=rules,
        recipients=recipients,
        record_count_thresholds=thresholds,
    )


def _services(problems: Problems, value: Any, path: str) -> frozenset[str]:
    items = problems.sequence(value, path)
    if items is None:
        return frozenset()
    found = (problems.text(item, child(path, i)) for i, item in enumerate(items))
    return frozenset(s for s in found if s is not None)


def _duration(problems: Problems, value: Any, path: str) -> timedelta | None:
    """Whole seconds as a number, or text like `90s`, `10m`, `1h`; must be positive."""
    seconds: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and (matched := _DURATION.match(value)):
        seconds = int(matched.group(1)) * _UNIT_SECONDS[matched.group(2)]
    if seconds is None or seconds <= 0:
        problems.add(path, f"{value!r} is not a positive duration like 600, 90s, 10m or 1h")
        return None
    return timedelta(seconds=seconds)


def _content_hash(document: dict[str, Any]) -> str:
    """A hash of the meaning, not the bytes: comments and key order do not change it."""
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:HASH_LENGTH]
