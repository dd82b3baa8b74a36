"""Which violations deserve a message: active ones at or above the configured severity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from dua_schemas import SEVERITIES, ConfigError

# Index in the contract's order: low < medium < high < critical.
SEVERITY_RANK: Final[dict[str, int]] = {name: rank for rank, name in enumerate(SEVERITIES)}

Decision = Literal["notify", "shadow", "below_threshold"]


def severity_rank(severity: str) -> int:
    """Rank of a severity of the contract; an unknown one is a `ConfigError` naming it."""
    try:
        return SEVERITY_RANK[severity]
    except KeyError:
        raise ConfigError(
            f"unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}"
        ) from None


def triage(violation: Mapping[str, Any], min_severity: str) -> Decision:
    """Decide whether a violation is posted.

    Shadow-mode rules are being trialled: their findings go to ClickHouse for review but must
    never page anyone, whatever their severity.
    """
    if violation["mode"] != "active":
        return "shadow"
    if SEVERITY_RANK.get(violation["severity"], 0) < severity_rank(min_severity):
        return "below_threshold"
    return "notify"
