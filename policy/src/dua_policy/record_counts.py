"""`record_count_thresholds`: how many records one access may touch before it is bulk access
(rule 17): a default for every purpose, and overrides for some purposes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from dua_policy.document import Problems, child

_MAXIMUM: Final = 2**31 - 1  # record_count is an Avro int


@dataclass(frozen=True, slots=True)
class RecordCountThresholds:
    """Above `default` records (or the purpose's own threshold) an access is bulk access."""

    default: int | None = None  # None: no threshold (rule 17 never fires)
    purposes: Mapping[str, int] = field(default_factory=dict)

    def for_purpose(self, purpose: str | None) -> int | None:
        """The threshold that applies to an access for `purpose` (None: no purpose)."""
        if purpose is not None and purpose in self.purposes:
            return self.purposes[purpose]
        return self.default


def parse_thresholds(
    problems: Problems, value: Any, path: str, purposes: frozenset[str]
) -> RecordCountThresholds:
    """`{default: N, purposes: {code: N, ...}}`; codes must be purposes of the policy."""
    mapping = problems.mapping(value, path)
    if mapping is None:
        return RecordCountThresholds()
    problems.keys(mapping, path, ("default",), ("purposes",))
    default = None
    if "default" in mapping:
        default = _count(problems, mapping["default"], child(path, "default"))
    overrides: dict[str, int] = {}
    where = child(path, "purposes")
    listed = problems.mapping(mapping.get("purposes", {}), where)
    for code, number in (listed or {}).items():
        if code not in purposes:
            problems.add(child(where, code), f"unknown purpose {code!r}")
            continue
        count = _count(problems, number, child(where, code))
        if count is not None:
            overrides[code] = count
    return RecordCountThresholds(default, overrides)


def _count(problems: Problems, value: Any, path: str) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAXIMUM:
        problems.add(path, f"{value!r} is not a record count from 0 to {_MAXIMUM}")
        return None
    return value
