"""`--since 7d`: durations as the query commands take them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from dua_schemas import ConfigError

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `12h`, `7d`, `2w` → a timedelta."""
    match = _DURATION.match(text)
    if match is None:
        raise ConfigError(
            f"duration {text!r} is not a number followed by s, m, h, d or w (e.g. 7d)"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def window_start(text: str, now: datetime) -> datetime:
    """The start of the window `text` long that ends at `now` (which carries a timezone)."""
    return now - parse_duration(text)
