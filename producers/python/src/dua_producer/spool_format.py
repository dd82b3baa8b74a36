"""The byte format of spool segments: length-prefixed records, each with a CRC-32.

    record := length (u32 BE, of body) | crc32(body) (u32 BE) | body
    body   := topic length (u16 BE) | topic (UTF-8) | key length (u16 BE) | key | value

A record holds what goes to Kafka, already encoded: topic, key (a pseudonym or event id) and
value (the wire-format bytes). A crash mid-write leaves a short or mismatching last record;
`scan` stops there and says so, and the records before it are intact.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

HEADER: Final = struct.Struct(">II")
_LEN16: Final = struct.Struct(">H")
MAX_BODY: Final = 16 * 1024 * 1024  # a longer length field can only be garbage


@dataclass(frozen=True, slots=True)
class SpoolRecord:
    """One message waiting in the spool; `end` is the byte offset just after it."""

    topic: str
    key: bytes
    value: bytes
    end: int


def frame(topic: str, key: bytes, value: bytes) -> bytes:
    """The bytes of one record."""
    name = topic.encode()
    body = b"".join((_LEN16.pack(len(name)), name, _LEN16.pack(len(key)), key, value))
    return HEADER.pack(len(body), zlib.crc32(body)) + body


@dataclass(frozen=True, slots=True)
class ScanEnd:
    """Where a scan stopped: `clean` unless a torn or corrupt record was found at `offset`.

    `reason` is a stable code (`torn_header`, `torn_record`, `checksum_mismatch`,
    `bad_body`); `problem` says the same in words.
    """

    offset: int
    clean: bool
    problem: str = ""
    reason: str = ""


def scan(data: bytes, start: int = 0) -> tuple[list[SpoolRecord], ScanEnd]:
    """Every intact record of `data` from `start` on, and where (and why) reading stopped."""
    records = list(_records(data, start))
    offset = records[-1].end if records else start
    if offset == len(data):
        return records, ScanEnd(offset, clean=True)
    reason, problem = _problem(data, offset)
    return records, ScanEnd(offset, clean=False, problem=problem, reason=reason)


def _records(data: bytes, offset: int) -> Iterator[SpoolRecord]:
    size = len(data)
    while offset + HEADER.size <= size:
        length, crc = HEADER.unpack_from(data, offset)
        body_start = offset + HEADER.size
        end = body_start + length
        if length > MAX_BODY or end > size:
            return
        body = data[body_start:end]
        if zlib.crc32(body) != crc:
            return
        parsed = _parse(body, end)
        if parsed is None:
            return
        yield parsed
        offset = end


def _parse(body: bytes, end: int) -> SpoolRecord | None:
    try:
        (topic_len,) = _LEN16.unpack_from(body, 0)
        topic = body[2 : 2 + topic_len].decode()
        (key_len,) = _LEN16.unpack_from(body, 2 + topic_len)
    except (struct.error, UnicodeDecodeError):
        return None
    key_start = 4 + topic_len
    if key_start + key_len > len(body):
        return None
    return SpoolRecord(
        topic, body[key_start : key_start + key_len], body[key_start + key_len :], end
    )


def _problem(data: bytes, offset: int) -> tuple[str, str]:
    remaining = len(data) - offset
    if remaining < HEADER.size:
        return "torn_header", f"{remaining} bytes of a record header"
    length, crc = HEADER.unpack_from(data, offset)
    if length > MAX_BODY or offset + HEADER.size + length > len(data):
        return (
            "torn_record",
            f"a record of {length} bytes with only {remaining - HEADER.size} present",
        )
    body = data[offset + HEADER.size : offset + HEADER.size + length]
    if zlib.crc32(body) != crc:
        return "checksum_mismatch", "a record whose checksum does not match"
    return "bad_body", "a record whose topic or key length runs past its body"
