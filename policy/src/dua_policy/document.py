"""Reading a YAML document field by field, collecting every problem with its location.

Validation never stops at the first mistake: each reader records a `Problem` under the path
where it looked (`purposes[3].permitted[1]`) and returns None, so the caller carries on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dua_policy.errors import Problem


def child(path: str, key: str | int) -> str:
    """The path of a member: `rules[2]` + `when` -> `rules[2].when`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Problems:
    """The problems found so far in one source."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.found.append(Problem(self.source, path, message))

    def mapping(self, value: Any, path: str) -> Mapping[str, Any] | None:
        """`value` if it is a mapping with text keys, else a problem and None."""
        if not isinstance(value, Mapping):
            self.add(path, f"must be a mapping, got {_kind(value)}")
            return None
        for key in value:
            if not isinstance(key, str):
                self.add(path, f"key {key!r} must be text")
                return None
        return value

    def sequence(self, value: Any, path: str) -> list[Any] | None:
        """`value` if it is a list, else a problem and None."""
        if not isinstance(value, list):
            self.add(path, f"must be a list, got {_kind(value)}")
            return None
        return value

    def text(self, value: Any, path: str) -> str | None:
        """`value` if it is non-empty text, else a problem and None."""
        if isinstance(value, bool) or not isinstance(value, str):
            hint = " (quote it)" if isinstance(value, int | float) else ""
            self.add(path, f"must be text, got {_kind(value)}{hint}")
            return None
        if not value.strip():
            self.add(path, "must not be empty")
            return None
        return value

    def boolean(self, value: Any, path: str) -> bool | None:
        """`value` if it is true or false, else a problem and None."""
        if not isinstance(value, bool):
            self.add(path, f"must be true or false, got {_kind(value)}")
            return None
        return value

    def choice(self, value: Any, path: str, allowed: Iterable[str], what: str) -> str | None:
        """`value` if it is one of `allowed`, else a problem naming the choices."""
        options = tuple(allowed)
        if value not in options:
            self.add(path, f"unknown {what} {value!r}; expected one of {', '.join(options)}")
            return None
        return str(value)

    def duplicates(self, items: list[Any], path: str, key: str, what: str) -> set[int]:
        """Report entries whose `key` repeats an earlier entry's; their indexes."""
        first_at: dict[str, str] = {}
        repeated: set[int] = set()
        for index, item in enumerate(items):
            if not isinstance(item, Mapping) or not isinstance(item.get(key), str):
                continue
            code = item[key]
            if code in first_at:
                self.add(
                    child(child(path, index), key),
                    f"duplicate {what} {code!r} (first at {first_at[code]})",
                )
                repeated.add(index)
            else:
                first_at[code] = child(path, index)
        return repeated

    def keys(
        self,
        mapping: Mapping[str, Any],
        path: str,
        required: Iterable[str],
        optional: Iterable[str],
    ) -> bool:
        """Report missing required keys and unknown keys; True when there were none."""
        required = tuple(required)
        known = set(required) | set(optional)
        ok = True
        for key in required:
            if key not in mapping:
                self.add(child(path, key), "is required")
                ok = False
        for key in mapping:
            if key not in known:
                self.add(
                    child(path, key), f"unknown field; expected one of {', '.join(sorted(known))}"
                )
                ok = False
        return ok


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__
