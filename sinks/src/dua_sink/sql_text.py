"""The SQL of the package: `.sql` files read as resources, rendered and split into statements.

Templates name the database as `${database}` and the retention as `${retention_days}`; both are
validated before substitution (an identifier, a positive integer), so rendering cannot inject.
Values that come from users always travel as server-side query parameters (`{name:Type}`).
"""

from __future__ import annotations

import re
from importlib.resources import files
from string import Template

from dua_schemas import ConfigError

MAX_RETENTION_DAYS = 18_250
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_STATEMENT_END = re.compile(r";[ \t]*$", re.MULTILINE)


def sql_resource(folder: str, name: str) -> str:
    """The text of `dua_sink/<folder>/<name>`."""
    return (files("dua_sink") / folder / name).read_text(encoding="utf-8")


def sql_resource_names(folder: str) -> list[str]:
    """The `.sql` files of a package folder, sorted by name."""
    return sorted(
        entry.name
        for entry in (files("dua_sink") / folder).iterdir()
        if entry.name.endswith(".sql")
    )


def check_identifier(name: str) -> str:
    """Return `name` if it can stand unquoted as a ClickHouse database name."""
    if not _IDENTIFIER.match(name):
        raise ConfigError(f"database name {name!r} must be letters, digits and _ (at most 64)")
    return name


def render(template: str, *, database: str, retention_days: int = 0) -> str:
    """Substitute `${database}` and `${retention_days}` in a template."""
    if not 0 <= retention_days <= MAX_RETENTION_DAYS:
        # TTL expressions are DateTimes, which end in 2106: a longer retention would wrap
        # around to the past and expire every row as it is inserted.
        raise ConfigError(
            f"retention_days must be between 1 and {MAX_RETENTION_DAYS}, not {retention_days}"
        )
    return Template(template).substitute(
        database=check_identifier(database), retention_days=str(int(retention_days))
    )


def strip_comments(sql: str) -> str:
    """Drop whole-line `--` comments (our files keep comments on their own lines)."""
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def split_statements(sql: str) -> list[str]:
    """Statements of a file, split at a `;` that ends a line."""
    body = strip_comments(sql)
    parts = _STATEMENT_END.split(body)
    return [part.strip() for part in parts if part.strip()]
