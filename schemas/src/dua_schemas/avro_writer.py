"""Avro binary writers compiled once per schema, and the encodings they are made of.

dua's one Python Avro writer, beside `avro_reader.py`: the processor writes its output records
with `compile_writer`; the SDK writes each event's per-call fields with `zigzag` and
`encode_string` (and `dua_schemas.timestamps.to_millis` for its time).

fastavro's `schemaless_writer` spends ~1 µs per union and ~0.8 µs per enum it writes (it
checks every branch), ~35 µs for one TaggedAccessEvent here: the largest single cost of the
processor. `compile_writer` turns a schema into nested closures that write the same bytes
with what is known in advance (branch indexes, enum indexes), caching the encoding of short
strings that repeat (services, purposes, element codes).

Only the types the dua schemas use are compiled: records, enums, arrays, maps, strings,
bytes, booleans, ints and longs (timestamp-millis included) and `["null", X]` unions. For any
other schema `compile_writer` returns None and the caller keeps fastavro. The tests compare
every byte with fastavro's.

When the native build (`dua_schemas_native`, `schemas/native`) is installed, `compile_writer`
returns its `Writer` instead (~1 µs instead of ~9 µs for a Violation), built from the same
program as the native reader (`dua_schemas.avro_reader.compile_program`). It follows the
rules of these closures, one for one, but takes only the exact types they are written for
(str, int, bool, bytes, aware datetimes, dicts, lists and tuples): for any other value it
raises ValueError, and the caller falls back to fastavro, whose bytes are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from dua_schemas.avro_reader import compile_program, native_build
from dua_schemas.timestamps import to_millis

Write = Callable[[Any, list[bytes]], None]

_CACHED_STRING_MAX: Final = 64  # longer strings (ids, messages) rarely repeat
_CACHE_LIMIT: Final = 50_000


class Unsupported(Exception):
    """The schema uses a type this module does not compile."""


def varint(n: int) -> bytes:
    """`n` (>= 0, already zig-zagged) as a base-128 varint, low groups first: also
    ClickHouse's unsigned LEB128 (the sink's Native blocks, `dua_sink.native_block`)."""
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# the encodings of 0 to 4095 (lengths, counts, indexes), ready: the common case, no arithmetic
_TABLE_SIZE: Final = 4096
_TABLE: Final = tuple(varint(n << 1) for n in range(_TABLE_SIZE))


def zigzag(value: int) -> bytes:
    """An Avro int/long: zig-zag, then a base-128 varint."""
    if 0 <= value < _TABLE_SIZE:
        return _TABLE[value]
    return varint((value << 1) ^ (value >> 63))


def encode_string(value: str) -> bytes:
    """An Avro string: its UTF-8 length, then the UTF-8 bytes."""
    data = value.encode()
    return zigzag(len(data)) + data


def map_in_order(value: Mapping[str, Any]) -> dict[str, Any]:
    """A map's entries in the order every dua SDK writes them: by the UTF-8 bytes of the key.

    UTF-8 byte order is code-point order, which is how Python compares strings (Java's
    `String.compareTo` compares UTF-16 units and differs for keys outside the BMP).
    """
    return dict(sorted(value.items(), key=_entry_key))


def _entry_key(entry: tuple[str, Any]) -> str:
    return entry[0]


def _string_writer() -> Write:
    cache: dict[str, bytes] = {}

    def write(value: str, out: list[bytes]) -> None:
        known = cache.get(value)
        if known is None:
            known = encode_string(value)
            if len(value) <= _CACHED_STRING_MAX:
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                cache[value] = known
        out.append(known)

    return write


def _bytes_write(value: bytes, out: list[bytes]) -> None:
    if not isinstance(value, (bytes, bytearray)):  # `bytes()` would take a list, or an int
        raise TypeError(f"{type(value).__name__} is not bytes")
    out.append(zigzag(len(value)))
    out.append(bytes(value))


_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1


def _long_write(value: int, out: list[bytes]) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not an int")
    if not _LONG_MIN <= value <= _LONG_MAX:  # fastavro refuses these (OverflowError)
        raise ValueError(f"{value} does not fit in 64 bits")
    out.append(zigzag(value))


def _timestamp_millis_write(value: datetime | int, out: list[bytes]) -> None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("timestamp-millis needs a timezone-aware datetime")
        value = to_millis(value)
    _long_write(value, out)


def _boolean_write(value: bool, out: list[bytes]) -> None:
    if value is True:
        out.append(b"\x01")
    elif value is False:
        out.append(b"\x00")
    else:
        raise TypeError(f"{value!r} is not a boolean")


def _enum_writer(schema: dict[str, Any]) -> Write:
    indexes = {symbol: zigzag(i) for i, symbol in enumerate(schema["symbols"])}

    def write(value: str, out: list[bytes]) -> None:
        out.append(indexes[value])  # KeyError: not a symbol of the enum

    return write


def _nullable_writer(item: Write) -> Write:
    def write(value: Any, out: list[bytes]) -> None:
        if value is None:
            out.append(b"\x00")
        else:
            out.append(b"\x02")
            item(value, out)

    return write


def _array_writer(item: Write) -> Write:
    def write(value: list[Any], out: list[bytes]) -> None:
        if len(value):  # not `if value:`, which would write None as an empty array
            out.append(zigzag(len(value)))
            for element in value:
                item(element, out)
        out.append(b"\x00")

    return write


def _map_writer(item: Write) -> Write:
    key = _string_writer()

    def write(value: dict[str, Any], out: list[bytes]) -> None:
        if len(value):  # not `if value:`, which would write None as an empty map
            out.append(zigzag(len(value)))
            for name, element in value.items():
                key(name, out)
                item(element, out)
        out.append(b"\x00")

    return write


def _record_writer(fields: list[tuple[str, Write]]) -> Write:
    def write(value: dict[str, Any], out: list[bytes]) -> None:
        for name, field in fields:
            field(value[name], out)

    return write


def _compile(schema: Any, named: dict[str, Write]) -> Write:
    if isinstance(schema, str):
        return _primitive(schema, named)
    if isinstance(schema, list):
        branches = [b for b in schema if b != "null"]
        if len(schema) != 2 or schema[0] != "null" or len(branches) != 1:
            raise Unsupported(f"union {schema!r}")
        return _nullable_writer(_compile(branches[0], named))
    kind = schema["type"]
    if kind == "record":
        fields: list[tuple[str, Write]] = []
        record = _record_writer(fields)
        named[schema["name"]] = record
        fields.extend((f["name"], _compile(f["type"], named)) for f in schema["fields"])
        return record
    if kind == "enum":
        named[schema["name"]] = _enum_writer(schema)
        return named[schema["name"]]
    if kind == "array":
        return _array_writer(_compile(schema["items"], named))
    if kind == "map":
        return _map_writer(_compile(schema["values"], named))
    if kind in ("long", "int") and schema.get("logicalType") == "timestamp-millis":
        return _timestamp_millis_write
    if isinstance(kind, str) and "logicalType" not in schema:
        return _primitive(kind, named)
    raise Unsupported(f"type {schema!r}")


def _primitive(name: str, named: dict[str, Write]) -> Write:
    if name in ("string",):
        return _string_writer()
    if name in ("int", "long"):
        return _long_write
    if name == "boolean":
        return _boolean_write
    if name == "bytes":
        return _bytes_write
    if name in named:
        return named[name]
    raise Unsupported(f"type {name!r}")


def compile_writer(
    schema: dict[str, Any], *, native: bool = True
) -> Callable[[dict[str, Any]], bytes] | None:
    """A function writing records of `schema` (its .avsc form) as Avro binary, or None.

    `native`: the native `Writer` when it is installed and compiles `schema`. Either raises
    (KeyError, TypeError or ValueError) on a record it does not write; fastavro then decides.
    """
    program = compile_program(schema) if native else None
    writer = native_build("Writer", program) if program is not None else None
    if writer is not None:
        write_native: Callable[[dict[str, Any]], bytes] = writer.write
        return write_native
    try:
        write = _compile(schema, {})
    except Unsupported:
        return None

    def encode(record: dict[str, Any]) -> bytes:
        out: list[bytes] = []
        write(record, out)
        return b"".join(out)

    return encode


def compile_fields(schema: dict[str, Any]) -> dict[str, Write] | None:
    """One writer per field of the record `schema` (by field name), or None if unsupported.

    Fields are compiled in order, so a named type defined in one field can be used by a
    later one, as in the schema itself.
    """
    named: dict[str, Write] = {}
    try:
        return {f["name"]: _compile(f["type"], named) for f in schema["fields"]}
    except Unsupported:
        return None
