"""The observed data map and its drift from the declared policy (`dua datamap`, the console).

The map is what services did, read from the hourly rollup the sink keeps (`datamap_hourly`).
Drift compares it with the policy in three ways:

- `undeclared`: a combination used but not declared, counted from the violations the engine
  raised event by event (rules `purpose_not_permitted` and `undeclared_purpose`), never
  re-derived here;
- `unseen`: a purpose x element pair the policy declares but no service used for N days (a
  promise broader than the practice); purposes that permit every element are left out;
- `new`: a combination first seen in the last N days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from dua_compliance.json_compact import QueryResult
from dua_compliance.reader import Reader
from dua_compliance.sql_files import sql_resource
from dua_policy import Policy
from dua_schemas import EPOCH

# The engine's rules that say "this purpose may not use this element" (DOMAIN.md rules 2, 3).
UNDECLARED_RULES: Final = ("purpose_not_permitted", "undeclared_purpose")

DriftKind = Literal["undeclared", "unseen", "new"]
DRIFT_KINDS: Final[tuple[DriftKind, ...]] = ("undeclared", "unseen", "new")

MAP_COLUMNS: Final = (
    "service",
    "purpose",
    "element",
    "category",
    "destination",
    "processing",
    "first_seen",
    "last_seen",
    "accesses",
    "subjects",
    "drift",
)
_MAP_TYPES: Final = (
    "String",
    "String",
    "String",
    "String",
    "String",
    "String",
    "Nullable(DateTime64(3, 'UTC'))",
    "Nullable(DateTime64(3, 'UTC'))",
    "UInt64",
    "UInt64",
    "String",
)


@dataclass(frozen=True, slots=True)
class DriftWindows:
    """How far back "not seen" and "new" look (defaults: the application's settings)."""

    unseen_days: int
    new_days: int


@dataclass(frozen=True, slots=True)
class MapEntry:
    """One observed combination, or (kind `unseen`) a declared pair nobody used."""

    service: str
    purpose: str
    element: str
    category: str
    destination: str
    processing: str
    first_seen: datetime | None
    last_seen: datetime | None
    accesses: int
    subjects: int
    drift: tuple[DriftKind, ...]

    def row(self) -> tuple[Any, ...]:
        return (
            self.service,
            self.purpose,
            self.element,
            self.category,
            self.destination,
            self.processing,
            self.first_seen,
            self.last_seen,
            self.accesses,
            self.subjects,
            ",".join(self.drift),
        )


@dataclass(frozen=True, slots=True)
class DataMap:
    """The map since a time, with every drift finding in it."""

    since: datetime
    now: datetime
    windows: DriftWindows
    entries: tuple[MapEntry, ...]

    def drifted(self, kind: DriftKind) -> list[MapEntry]:
        return [entry for entry in self.entries if kind in entry.drift]

    def drift_counts(self) -> dict[DriftKind, int]:
        return {kind: len(self.drifted(kind)) for kind in DRIFT_KINDS}

    def result(self) -> QueryResult:
        """The map as a result table (what `render_result` prints)."""
        return QueryResult(MAP_COLUMNS, _MAP_TYPES, [entry.row() for entry in self.entries])


def declared_pairs(policy: Policy) -> set[tuple[str, str]]:
    """Purpose x element pairs the policy permits explicitly (not `permitted: all`)."""
    return {
        (purpose.code, element)
        for purpose in policy.purposes
        if not purpose.permits_all
        for element in purpose.permitted
    }


def observed_map(
    reader: Reader,
    policy: Policy,
    *,
    since: datetime,
    now: datetime,
    windows: DriftWindows,
) -> DataMap:
    """The map of combinations seen since `since`, with drift as of `now`."""
    seen = reader.query(
        sql_resource("sql", "datamap.sql"),
        {"since": since, "undeclared_rules": list(UNDECLARED_RULES)},
    )
    # First seen is a property of the whole retained history, not of the window.
    history = {
        _key(row): row["first_seen"]
        for row in reader.query(
            sql_resource("sql", "datamap.sql"),
            {"since": EPOCH, "undeclared_rules": list(UNDECLARED_RULES)},
        ).dicts()
    }
    new_since = now - timedelta(days=windows.new_days)
    entries = [
        _entry(row, history.get(_key(row), row["first_seen"]), new_since) for row in seen.dicts()
    ]
    last_seen = reader.query(sql_resource("sql", "datamap_last_seen.sql"))
    entries.extend(_unseen(policy, last_seen.dicts(), now - timedelta(days=windows.unseen_days)))
    return DataMap(since, now, windows, tuple(entries))


def _key(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(row[name])
        for name in (
            "service",
            "purpose",
            "element",
            "category",
            "destination_kind",
            "destination_name",
            "processing",
        )
    )


def _entry(row: dict[str, Any], first_seen: datetime, new_since: datetime) -> MapEntry:
    drift: list[DriftKind] = []
    if int(row["undeclared_violations"]) > 0:
        drift.append("undeclared")
    if first_seen >= new_since:
        drift.append("new")
    kind, name = str(row["destination_kind"]), str(row["destination_name"])
    return MapEntry(
        service=str(row["service"]),
        purpose=str(row["purpose"]) or "(none)",
        element=str(row["element"]),
        category=str(row["category"]),
        destination=f"{kind}:{name}" if name else kind,
        processing=str(row["processing"]),
        first_seen=first_seen,
        last_seen=row["last_seen"],
        accesses=int(row["accesses"]),
        subjects=int(row["subjects"]),
        drift=tuple(drift),
    )


def _unseen(
    policy: Policy, last_seen_rows: Iterable[dict[str, Any]], cutoff: datetime
) -> list[MapEntry]:
    last_seen = {(str(r["purpose"]), str(r["element"])): r["last_seen"] for r in last_seen_rows}
    categories = {element.code: element.category for element in policy.elements}
    unseen = []
    for purpose, element in sorted(declared_pairs(policy)):
        seen = last_seen.get((purpose, element))
        if seen is not None and seen >= cutoff:
            continue
        unseen.append(
            MapEntry(
                service="",
                purpose=purpose,
                element=element,
                category=categories.get(element, "unknown"),
                destination="",
                processing="",
                first_seen=None,
                last_seen=seen,
                accesses=0,
                subjects=0,
                drift=("unseen",),
            )
        )
    return unseen


def drift_lines(data_map: DataMap, kinds: Sequence[DriftKind] = DRIFT_KINDS) -> list[str]:
    """One line per drift finding, for messages and the demo's summary."""
    lines = []
    for kind in kinds:
        for entry in data_map.drifted(kind):
            if kind == "unseen":
                lines.append(f"unseen: {entry.purpose} declares {entry.element}, not used")
            else:
                lines.append(
                    f"{kind}: {entry.service} used {entry.element} for {entry.purpose} "
                    f"({entry.destination}, {entry.processing}; {entry.accesses} accesses)"
                )
    return lines
