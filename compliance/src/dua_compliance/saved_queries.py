"""The library of named questions: `queries/<name>.sql`, each opened by a one-line description.

A query takes its window as `{since:DateTime64(3, 'UTC')}`; ClickHouse binds the value, the SQL
text never changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from dua_compliance.errors import UnknownSavedQuery
from dua_compliance.json_compact import QueryResult
from dua_compliance.reader import Reader
from dua_compliance.sql_files import sql_resource, sql_resource_names

_PARAMETER = re.compile(r"\{(\w+):")


@dataclass(frozen=True, slots=True)
class SavedQuery:
    """One named question."""

    name: str
    description: str
    sql: str = field(repr=False)

    @property
    def parameters(self) -> frozenset[str]:
        return frozenset(_PARAMETER.findall(self.sql))


def saved_queries() -> list[SavedQuery]:
    """Every query of the library, by name."""
    found = []
    for file_name in sql_resource_names("queries"):
        sql = sql_resource("queries", file_name)
        found.append(SavedQuery(file_name.removesuffix(".sql"), _description(sql), sql))
    return found


def saved_query(name: str) -> SavedQuery:
    for query in saved_queries():
        if query.name == name:
            return query
    names = ", ".join(query.name for query in saved_queries())
    raise UnknownSavedQuery(f"no saved query named {name!r}; the library has: {names}")


def run_saved(reader: Reader, name: str, since: datetime) -> QueryResult:
    """Run a saved query over the window starting at `since`."""
    query = saved_query(name)
    parameters = {"since": since} if "since" in query.parameters else {}
    return reader.query(query.sql, parameters)


def _description(sql: str) -> str:
    lines = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.removeprefix("--").strip())
    return " ".join(lines) or "(no description)"
