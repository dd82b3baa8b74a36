"""The explorer's filter: read from the URL's query string, checked, turned into SQL.

The SQL is made only of fixed fragments chosen by field name; every value a user typed
travels as a ClickHouse query parameter (`{name:Array(String)}`), never as SQL text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from dua_compliance.console.errors import InvalidInput
from dua_compliance.time_window import parse_duration
from dua_schemas import ConfigError

# field -> the condition it adds, over the parameter `{p:Array(String)}`
FRAGMENTS: dict[str, str] = {
    "service": "service IN {p:Array(String)}",
    "purpose": "purpose IN {p:Array(String)}",
    "purpose_category": "purpose_category IN {p:Array(String)}",
    "element": "hasAny(elements, {p:Array(String)})",
    "category": "hasAny(element_categories, {p:Array(String)})",
    "destination": "(destination_kind IN {p:Array(String)} "
    "OR destination_name IN {p:Array(String)})",
    "actor": "actor_id IN {p:Array(String)}",
    "rule": "hasAny(violation_rules, {p:Array(String)})",
    "severity": "hasAny(violation_severities, {p:Array(String)})",
    "policy_version": "policy_version IN {p:Array(String)}",
}
SEVERITIES = ("critical", "high", "medium", "low")
MAX_PAGE_SIZE = 500
MAX_VALUES = 50
MAX_VALUE_LENGTH = 200
_CONTROL = {"since", "until", "page", "size", "violations_only"}


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which access events the explorer shows; each field may be included or excluded."""

    include: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)
    since: datetime | None = None
    until: datetime | None = None
    violations_only: bool = False
    page: int = 1
    size: int = 50

    def where(self) -> tuple[str, dict[str, Any]]:
        """The WHERE condition and its parameters."""
        conditions: list[str] = []
        parameters: dict[str, Any] = {}
        for negate, chosen in ((False, self.include), (True, self.exclude)):
            for name, values in sorted(chosen.items()):
                key = f"{'x' if negate else 'f'}_{name}"
                fragment = FRAGMENTS[name].replace("{p:", "{" + key + ":")
                conditions.append(f"NOT {fragment}" if negate else fragment)
                parameters[key] = list(values)
        if self.since is not None:
            conditions.append("occurred_at >= {since:DateTime64(3, 'UTC')}")
            parameters["since"] = self.since
        if self.until is not None:
            conditions.append("occurred_at < {until:DateTime64(3, 'UTC')}")
            parameters["until"] = self.until
        if self.violations_only:
            conditions.append("notEmpty(violation_rules)")
        return (" AND ".join(conditions) or "1"), parameters

    def query_string(self, **changes: Any) -> str:
        """The filter as a shareable query string (`changes` override page, size, …)."""
        pairs: list[tuple[str, str]] = []
        for name, values in sorted(self.include.items()):
            pairs.extend((name, v) for v in values)
        for name, values in sorted(self.exclude.items()):
            pairs.extend((f"exclude_{name}", v) for v in values)
        control = {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "violations_only": "1" if self.violations_only else None,
            "page": str(self.page) if self.page != 1 else None,
            "size": str(self.size) if self.size != 50 else None,
        }
        control.update({k: (None if v is None else str(v)) for k, v in changes.items()})
        pairs.extend((k, v) for k, v in control.items() if v is not None)
        return urlencode(pairs)

    def describe(self) -> dict[str, Any]:
        """The filter as plain data, for the console's audit log."""
        return {
            "include": {k: list(v) for k, v in self.include.items()},
            "exclude": {k: list(v) for k, v in self.exclude.items()},
            "since": self.since,
            "until": self.until,
            "violations_only": self.violations_only,
        }


def parse_filter(
    query: Mapping[str, Sequence[str]],
    *,
    now: datetime,
    allowed_extra: frozenset[str] = frozenset(),
) -> AuditFilter:
    """Read a filter from query parameters; `InvalidInput` names what is wrong."""
    include: dict[str, tuple[str, ...]] = {}
    exclude: dict[str, tuple[str, ...]] = {}
    for key, raw_values in query.items():
        if key in _CONTROL or key in allowed_extra:
            continue
        name, target = (key[8:], exclude) if key.startswith("exclude_") else (key, include)
        if name not in FRAGMENTS:
            raise InvalidInput(f"unknown filter {key!r}: use one of {', '.join(FRAGMENTS)}")
        values = tuple(v.strip() for v in raw_values if v.strip())
        if len(values) > MAX_VALUES:
            raise InvalidInput(f"filter {key!r} has more than {MAX_VALUES} values")
        if any(len(v) > MAX_VALUE_LENGTH for v in values):
            raise InvalidInput(f"a value of {key!r} is longer than {MAX_VALUE_LENGTH} characters")
        if name == "severity" and not set(values) <= set(SEVERITIES):
            raise InvalidInput(f"severity is one of {', '.join(SEVERITIES)}")
        if values:
            target[name] = values
    return AuditFilter(
        include=include,
        exclude=exclude,
        since=_time(_one(query, "since"), "since", now),
        until=_time(_one(query, "until"), "until", now),
        violations_only=_one(query, "violations_only") in {"1", "true", "on"},
        page=_int(_one(query, "page"), "page", 1, 10_000, 1),
        size=_int(_one(query, "size"), "size", 1, MAX_PAGE_SIZE, 50),
    )


def _one(query: Mapping[str, Sequence[str]], key: str) -> str | None:
    values = [v for v in query.get(key, ()) if v.strip()]
    if len(values) > 1:
        raise InvalidInput(f"{key!r} is given more than once")
    return values[0].strip() if values else None


def _int(text: str | None, key: str, low: int, high: int, default: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(f"{key!r} must be a whole number from {low} to {high}")
    return int(text)


def _time(text: str | None, key: str, now: datetime) -> datetime | None:
    """An ISO 8601 time (UTC when no zone is given) or a window back from now (7d, 12h)."""
    if text is None:
        return None
    try:
        return now - parse_duration(text)
    except ConfigError:
        pass  # not a window: an ISO time, then
    except OverflowError:
        raise InvalidInput(f"{key!r} reaches too far back") from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{key!r} must be an ISO 8601 time (2026-01-31T12:00) or a window (7d, 12h)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
