"""Avro `timestamp-millis`: the epoch, and a moment as whole milliseconds since it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND: Final = timedelta(milliseconds=1)


def to_millis(moment: datetime) -> int:
    """Milliseconds from the epoch to an aware `moment`, rounded down as fastavro writes them.

    Exact (no float): microseconds are dropped towards the past, before 1970 too.
    """
    return (moment - EPOCH) // _MILLISECOND


def from_millis(millis: int) -> datetime:
    """The aware UTC datetime `millis` milliseconds from the epoch."""
    return EPOCH + timedelta(milliseconds=millis)
