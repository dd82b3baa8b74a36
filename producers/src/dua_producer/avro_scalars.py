"""Avro binary encodings of the few scalar shapes an event's per-call fields have.

Only what `event_layout` needs: zigzag varints (int, long, timestamp-millis), strings, and
two-branch unions of null and string. Each is checked against fastavro by the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

Encoder = Callable[[Any], bytes]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SMALL: Final = 4096  # varints of small non-negative numbers (lengths, counts) come from a table


def _varint_uncached(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)  # zigzag: small magnitudes, either sign, give short codes
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


_TABLE: Final = tuple(_varint_uncached(n) for n in range(_SMALL))


def varint(n: int) -> bytes:
    """Avro `int`/`long`: zigzag, then base-128 little-endian groups."""
    return _TABLE[n] if 0 <= n < _SMALL else _varint_uncached(n)


def string(value: str) -> bytes:
    """Avro `string`: byte length, then UTF-8."""
    data = value.encode()
    return varint(len(data)) + data


def epoch_millis(moment: datetime) -> int:
    """A tz-aware datetime as Avro `timestamp-millis`, rounded as fastavro rounds it."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def timestamp() -> Encoder:
    """Avro `timestamp-millis` from epoch milliseconds, remembering the last one.

    Events emitted within the same millisecond share the encoding (a 6-byte varint loop).
    """
    last: list[tuple[int, bytes]] = [(-1, b"")]

    def encode(millis: int) -> bytes:
        known_millis, known = last[0]  # one tuple: threads replace it whole, never half
        if known_millis == millis:
            return known
        data = _varint_uncached(millis)
        last[0] = (millis, data)
        return data

    return encode


def optional_string(null_index: int) -> Encoder:
    """Avro union of null and string, given where null sits in the union."""
    null = varint(null_index)
    text = varint(1 - null_index)

    def encode(value: str | None) -> bytes:
        return null if value is None else text + string(value)

    return encode


def encoder_for(avro_type: Any) -> Encoder | None:
    """The encoder of a field type, or None when it is not one of the shapes above."""
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if avro_type.get("type") == "long" and logical == "timestamp-millis":
            return timestamp()  # the caller passes epoch milliseconds
        if avro_type.get("type") == "long" and logical is None:
            return varint
        if avro_type.get("type") in ("int", "string") and logical is None:
            return encoder_for(avro_type["type"])
        return None
    if avro_type in ("int", "long"):
        return varint
    if avro_type == "string":
        return string
    if isinstance(avro_type, list) and sorted(map(str, avro_type)) == ["null", "string"]:
        return optional_string(avro_type.index("null"))
    return None
