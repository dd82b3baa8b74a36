"""Python values → the text form ClickHouse expects for `{name:Type}` query parameters.

The same text travels as chDB's `params`, as the sink endpoint's `param_<name>` and as a
server's HTTP `param_<name>`: the value is parsed by ClickHouse as the declared type and is
never part of the SQL text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any


def format_parameter(value: Any) -> str:
    """One parameter value in ClickHouse's parameter text form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetime parameters must carry a timezone")
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ",".join(_literal(item) for item in value) + "]"
    return str(value)


def format_parameters(parameters: Mapping[str, Any] | None) -> dict[str, str]:
    return {name: format_parameter(value) for name, value in (parameters or {}).items()}


def _literal(value: Any) -> str:
    """An element inside an array parameter: strings and times are quoted."""
    if isinstance(value, str | datetime | date):
        text = format_parameter(value)
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return format_parameter(value)
