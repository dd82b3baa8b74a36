"""The compliance queries' SQL: `.sql` files of this package, read as resources.

Values that come from users always travel as server-side query parameters (`{name:Type}`);
the only name put into SQL text is the database, checked to be a plain identifier first.
"""

from __future__ import annotations

import re
from importlib.resources import files

from dua_schemas import ConfigError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def sql_resource(folder: str, name: str) -> str:
    """The text of `dua_compliance/<folder>/<name>`."""
    return (files("dua_compliance") / folder / name).read_text(encoding="utf-8")


def sql_resource_names(folder: str) -> list[str]:
    """The `.sql` files of a package folder, sorted by name."""
    return sorted(
        entry.name
        for entry in (files("dua_compliance") / folder).iterdir()
        if entry.name.endswith(".sql")
    )


def check_database(name: str) -> str:
    """Return `name` if it can stand unquoted as a ClickHouse database name."""
    if not _IDENTIFIER.match(name):
        raise ConfigError(f"database name {name!r} must be letters, digits and _ (at most 64)")
    return name
