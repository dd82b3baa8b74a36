"""Finding messages: a template per rule, filled with names a compliance officer reads.

Templates use `{placeholder}` fields from a fixed list; anything else (attribute access,
format specs, unknown names) is refused when the policy loads.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from datetime import timedelta
from typing import Final

from dua_policy.model import Purpose

PLACEHOLDERS: Final = (
    "actor",
    "destination",
    "elements",
    "operation",
    "origin",
    "processing",
    "purpose",
    "record_count",
    "service",
    "window",
)


def template_problems(template: str) -> list[str]:
    """What is wrong with a message template (empty when it is usable)."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as exc:
        return [f"message template is malformed: {exc}"]
    problems = []
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            problems.append(
                f"message placeholder {{{name}}} is not one of "
                + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            )
    return problems


def describe_purpose(code: str | None, purpose: Purpose | None) -> str:
    """`service.points_program ("Points program operation")`, or why there is none."""
    if code is None:
        return "no declared purpose"
    if purpose is None:
        return f"the undeclared purpose {code!r}"
    return f'{code} ("{purpose.label.en}")'


def describe_elements(codes: Iterable[str]) -> str:
    """Element codes joined for a sentence."""
    return ", ".join(codes) or "no elements"


def describe_destination(kind: str, name: str | None) -> str:
    """`CLIENT "partner-store"` or just the kind."""
    return f'{kind} "{name}"' if name else kind


def describe_window(window: timedelta) -> str:
    """`10 minutes`, `90 seconds`, `2 hours`."""
    seconds = int(window.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
