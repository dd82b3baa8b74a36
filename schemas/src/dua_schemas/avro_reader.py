"""Avro binary readers compiled once per schema: every record read from Kafka, fast.

fastavro's `schemaless_reader` looks up each value's type in the schema again for every
record, ~18 µs for one DataAccessEvent here: the largest cost of the processor, and of the
sink for TaggedAccessEvents. `compile_program` walks a schema once into a flat program;
`compile_reader` turns that program into a native reader (`dua_schemas_native`, built from
`schemas/native`, ~2 µs) when it is installed, else into nested closures (as `avro_writer.py`
does for writing, ~12 µs) that read straight from the payload's bytes, with
one-byte fast paths for the lengths, enum indexes and union branches that nearly every value
has. Both follow the same rules, below.

Only the types the dua schemas use are compiled: records, enums, arrays, maps, strings,
bytes, booleans, ints and longs (timestamp-millis included), null and `["null", X]` unions.
For any other schema `compile_reader` returns None and the caller keeps fastavro.

A compiled reader returns exactly what `schemaless_reader(buf, parse_schema(schema), None)`
returns (same types: enum symbols, aware UTC datetimes, strict UTF-8), and ends where it
ends. On anything else it raises, any exception, and the caller asks fastavro, whose answer
is authoritative: it never succeeds where fastavro fails. It is stricter than fastavro, which
accepts some malformed input (negative enum and union indexes count from the end, varints
past 64 bits lose their high bits): such input is left to fastavro to judge. It reads `bytes`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from dua_schemas.timestamps import EPOCH


def _native_module() -> Any:
    """The optional native build of these readers (`schemas/native`), or None."""
    try:
        return importlib.import_module("dua_schemas_native")
    except ImportError:  # pure Python then: the same results, ~5x slower
        return None


NATIVE: Final[Any] = _native_module()

log = logging.getLogger("dua_schemas.avro_reader")

Read = Callable[[bytes, int], tuple[Any, int]]

# fastavro's `read_timestamp_millis` computes `epoch + timedelta(microseconds=ms * 1000)`,
# with `EPOCH`'s epoch (`UTC` is `timezone.utc`); `_timestamp_millis_reader` gets the same datetime
_MILLIS: Final = tuple(timedelta(milliseconds=n) for n in range(1000))
_CACHE_LIMIT: Final = 10_000  # seconds kept per timestamp field
# a varint that is one byte below 0x80: its zig-zag value, precomputed
_SMALL: Final = tuple((n >> 1) ^ -(n & 1) for n in range(128))
_LONG_BITS: Final = 64
_VARINT_MAX_SHIFT: Final = 63  # the 10th byte of a varint; fastavro's shifts past it are undefined


class Unsupported(Exception):
    """The schema uses a type this module does not compile."""


class Malformed(ValueError):
    """The bytes are not read here; fastavro decides what they are."""


# Positions only ever grow (every length is checked to be >= 0), so a slice that ran past
# the end of the payload is caught once, at the end, by `compile_reader`'s reader: a value
# read from such a slice never gets out.


def read_long(b: bytes, pos: int) -> tuple[int, int]:
    """An Avro int/long at `b[pos]`: (value, position after it); `Malformed` past 64 bits."""
    first = b[pos]
    if first < 0x80:
        return _SMALL[first], pos + 1
    return _long_read_slow(b, pos)


def _long_read_slow(b: bytes, pos: int) -> tuple[int, int]:
    n = 0
    shift = 0
    while True:
        byte = b[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
        if shift > _VARINT_MAX_SHIFT:
            raise Malformed("varint longer than 10 bytes")
    # fastavro keeps 64 bits and drops the rest: a wider value is not read the same here
    if n >> _LONG_BITS:
        raise Malformed("varint wider than 64 bits")
    return (n >> 1) ^ -(n & 1), pos


def _string_read(b: bytes, pos: int) -> tuple[str, int]:
    size = b[pos]
    if not size & 0x81:  # one byte, even: a length of 0 to 63
        end = pos + 1 + (size >> 1)
        return b[pos + 1 : end].decode(), end
    if size & 0x80:
        second = b[pos + 1]
        if second < 0x80:  # two bytes: a length of 64 to 8191 (pseudonyms, messages), or < 0
            size = (size & 0x7F) | (second << 7)
            if size & 1:
                raise Malformed("negative length")
            end = pos + 2 + (size >> 1)
            return b[pos + 2 : end].decode(), end
    size, pos = read_long(b, pos)
    if size < 0:
        raise Malformed("negative length")
    end = pos + size
    return b[pos:end].decode(), end


def _bytes_read(b: bytes, pos: int) -> tuple[bytes, int]:
    size, pos = read_long(b, pos)
    if size < 0:
        raise Malformed("negative length")
    end = pos + size
    return bytes(b[pos:end]), end  # bytes(), as fastavro returns, even for a bytearray


def _boolean_read(b: bytes, pos: int) -> tuple[bool, int]:
    return b[pos] != 0, pos + 1  # as fastavro: any byte but 0 is true


def _null_read(_b: bytes, pos: int) -> tuple[None, int]:
    return None, pos


def _timestamp_millis_reader() -> Read:
    # Building a timedelta from a large number costs ~1 µs; events come many to a second, so
    # the datetime of each second is kept and the milliseconds added with a ready timedelta.
    # `EPOCH + timedelta(seconds=s) + _MILLIS[r]` is the same datetime as fastavro's, and
    # overflows exactly when fastavro's does: datetime's range ends on whole seconds.
    seconds: dict[int, datetime] = {}

    def read(b: bytes, pos: int) -> tuple[datetime, int]:
        ms, pos = read_long(b, pos)
        second, millis = divmod(ms, 1000)
        base = seconds.get(second)
        if base is None:
            base = EPOCH + timedelta(seconds=second)
            if len(seconds) >= _CACHE_LIMIT:
                seconds.clear()
            seconds[second] = base
        return base + _MILLIS[millis], pos

    return read


def _enum_reader(symbols: tuple[str, ...]) -> Read:
    # first byte -> symbol, for the indexes written in one byte; None: read it in full
    by_byte: list[str | None] = [None] * 256
    for index, symbol in enumerate(symbols[:64]):
        by_byte[index << 1] = symbol

    def read(b: bytes, pos: int) -> tuple[str, int]:
        symbol = by_byte[b[pos]]
        if symbol is not None:
            return symbol, pos + 1
        index, pos = read_long(b, pos)
        if not 0 <= index < len(symbols):
            raise Malformed(f"enum index {index}")
        return symbols[index], pos

    return read


def _nullable_reader(item: Read) -> Read:
    def read(b: bytes, pos: int) -> tuple[Any, int]:
        branch = b[pos]
        if branch == 0:
            return None, pos + 1
        if branch == 2:
            return item(b, pos + 1)
        raise Malformed(f"union branch byte {branch}")

    return read


def _nullable_string_read(b: bytes, pos: int) -> tuple[str | None, int]:
    # `_nullable_reader(_string_read)` with the common case inlined: the most frequent field
    branch = b[pos]
    if branch == 0:
        return None, pos + 1
    if branch != 2:
        raise Malformed(f"union branch byte {branch}")
    size = b[pos + 1]
    if not size & 0x81:
        end = pos + 2 + (size >> 1)
        return b[pos + 2 : end].decode(), end
    return _string_read(b, pos + 1)


def _block_count(b: bytes, pos: int) -> tuple[int, int]:
    """The item count of an array or map block; 0 ends the array or map."""
    count = b[pos]
    if not count & 0x81:  # one byte, even: 0 to 63 items
        return count >> 1, pos + 1
    count, pos = read_long(b, pos)
    if count < 0:
        count = -count
        _, pos = read_long(b, pos)  # the block's size in bytes: fastavro reads, then ignores it
    # more items than bytes left: only zero-width items could fit, and fastavro would build a
    # list that large; not here
    if count > len(b) - pos:
        raise Malformed(f"block of {count} items")
    return count, pos


def _array_reader(item: Read) -> Read:
    def read(b: bytes, pos: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        if b[pos] == 0:  # empty: the common case for optional lists
            return items, pos + 1
        append = items.append
        count, pos = _block_count(b, pos)
        while count:
            for _ in range(count):
                value, pos = item(b, pos)
                append(value)
            count, pos = _block_count(b, pos)
        return items, pos

    return read


def _map_reader(item: Read) -> Read:
    def read(b: bytes, pos: int) -> tuple[dict[str, Any], int]:
        items: dict[str, Any] = {}
        if b[pos] == 0:
            return items, pos + 1
        count, pos = _block_count(b, pos)
        while count:
            for _ in range(count):
                key, pos = _string_read(b, pos)
                items[key], pos = item(b, pos)
            count, pos = _block_count(b, pos)
        return items, pos

    return read


def _record_reader(fields: list[tuple[str, Read]]) -> Read:
    def read(b: bytes, pos: int) -> tuple[dict[str, Any], int]:
        record: dict[str, Any] = {}
        for name, field in fields:
            record[name], pos = field(b, pos)
        return record, pos

    return read


_PRIMITIVES: Final[dict[str, Read]] = {
    "string": _string_read,
    "long": read_long,
    "boolean": _boolean_read,
    "bytes": _bytes_read,
    "null": _null_read,
}
# fastavro reads an int as a long: no 32-bit range check, so an int is a "long" node
_PRIMITIVE_NODES: Final = {"string", "int", "long", "boolean", "bytes", "null"}

# A schema compiled to a flat program: node 0 the root record, each node `(kind, argument)`.
# kind: "null", "boolean", "long", "string", "bytes", "timestamp-millis" (argument None),
# "enum" (its symbols), "array", "map", "nullable" (the index of the item's node), "record"
# (a list of (field name, node index)). Named types are one node, referred to by index, so
# a recursive schema is a cyclic program. Both the Python closures below and the native
# reader (`dua_schemas_native.Reader`) are built from it, so they read the same schemas.
Program = list[tuple[str, Any]]


def _fullname(schema: dict[str, Any], namespace: str) -> str:
    """The name a named type is referred to by, in Avro's (and fastavro's) rules."""
    name: str = schema["name"]
    if "." in name:
        return name
    namespace = schema.get("namespace", namespace)
    return f"{namespace}.{name}" if namespace else name


def _add(program: Program, kind: str, argument: Any = None) -> int:
    program.append((kind, argument))
    return len(program) - 1


def _node(schema: Any, program: Program, named: dict[str, int], namespace: str) -> int:
    """Append `schema`'s nodes to `program`; the index of its own node."""
    if isinstance(schema, str):
        return _primitive(schema, program, named, namespace)
    if isinstance(schema, list):
        if len(schema) != 2 or schema[0] != "null" or schema[1] == "null":
            raise Unsupported(f"union {schema!r}")
        at = _add(program, "nullable")
        program[at] = ("nullable", _node(schema[1], program, named, namespace))
        return at
    kind = schema["type"]
    if kind in ("record", "enum"):
        fullname = _fullname(schema, namespace)
        if fullname in named:
            raise Unsupported(f"{fullname} is defined twice")
        if kind == "enum":
            named[fullname] = _add(program, "enum", tuple(schema["symbols"]))
            return named[fullname]
        fields: list[tuple[str, int]] = []
        named[fullname] = at = _add(program, "record", fields)  # before the fields: recursion
        inner = fullname.rpartition(".")[0]
        fields.extend(
            (f["name"], _node(f["type"], program, named, inner)) for f in schema["fields"]
        )
        return at
    if kind in ("array", "map"):
        at = _add(program, kind)
        item = schema["items"] if kind == "array" else schema["values"]
        program[at] = (kind, _node(item, program, named, namespace))
        return at
    if kind == "long" and schema.get("logicalType") == "timestamp-millis":
        return _add(program, "timestamp-millis")
    if kind in _PRIMITIVE_NODES and "logicalType" not in schema:
        return _primitive(kind, program, named, namespace)
    # fastavro converts some logical types and leaves others as they are: not compiled
    raise Unsupported(f"type {schema!r}")


def _primitive(name: str, program: Program, named: dict[str, int], namespace: str) -> int:
    if name in _PRIMITIVE_NODES:
        return _add(program, "long" if name == "int" else name)
    fullname = name if "." in name or not namespace else f"{namespace}.{name}"
    if fullname in named:
        return named[fullname]
    raise Unsupported(f"type {name!r}")


def compile_program(schema: dict[str, Any]) -> Program | None:
    """`schema` (its .avsc form, a record) as a reader program, or None if not compiled here."""
    if schema.get("type") != "record":
        return None
    program: Program = []
    try:
        _node(schema, program, {}, "")
    except Unsupported:
        return None
    return program


def _closures(program: Program) -> Read:
    """The Python reader of `program`'s root node."""
    readers: list[Read | None] = [None] * len(program)
    record_fields: dict[int, list[tuple[str, Read]]] = {}
    for at, (kind, argument) in enumerate(program):  # named types first: others refer to them
        if kind == "record":
            record_fields[at] = []
            readers[at] = _record_reader(record_fields[at])
        elif kind == "enum":
            readers[at] = _enum_reader(argument)
        elif kind == "timestamp-millis":
            readers[at] = _timestamp_millis_reader()
        elif kind in _PRIMITIVES:
            readers[at] = _PRIMITIVES[kind]
    # an array, map or union's item comes after it in the program, or is a named type
    for at in reversed(range(len(program))):
        kind, argument = program[at]
        if kind == "nullable" and program[argument][0] == "string":
            readers[at] = _nullable_string_read
        elif kind in ("nullable", "array", "map"):
            item = readers[argument]
            assert item is not None
            wrap = {"nullable": _nullable_reader, "array": _array_reader, "map": _map_reader}
            readers[at] = wrap[kind](item)
    for at, fields in record_fields.items():
        for name, index in program[at][1]:
            field = readers[index]
            assert field is not None
            fields.append((name, field))
    root = readers[0]
    assert root is not None
    return root


def native_reader(program: Program) -> Any | None:
    """`dua_schemas_native.Reader(program)`, or None without the native build.

    A native build older than this module may not know a node kind of the program: then the
    Python readers are used (same results), with a warning, rather than failing to decode.
    """
    return native_build("Reader", program)


def native_build(name: str, *args: Any) -> Any | None:
    """`dua_schemas_native.<name>(*args)` (a `Reader`, `Writer`, `Splicer` or `Checker`: the
    byte-level classes of `schemas/native`), or None.

    None without the native build, or when it refuses (a build older than this module, which
    lacks a class or a node kind): the caller then uses its Python code, with the same
    results, and a warning says how to rebuild.
    """
    if NATIVE is None:
        return None
    build = getattr(NATIVE, name, None)
    if build is None:
        reason = f"the installed build has no {name}: it is older than this code"
    else:
        try:
            return build(*args)
        except Exception as exc:  # any refusal of the native build means: use Python
            reason = f"its {name} refused a schema ({exc})"
    if (name, reason) not in _WARNED:  # once: a processor builds several of each
        _WARNED.add((name, reason))
        log.warning(
            "native Avro code: %s; using Python instead (same results, slower). "
            "Rebuild it with `make setup` (or pip install ./schemas/native)",
            reason,
        )
    return None


_WARNED: set[tuple[str, str]] = set()


def compile_reader(
    schema: dict[str, Any], *, native: bool = True
) -> Callable[[bytes, int], tuple[dict[str, Any], int]] | None:
    """A function reading records of `schema` (its .avsc form) from Avro binary, or None.

    `read(body, pos)` returns the record starting at `body[pos]` and the position after it.
    `native`: use `dua_schemas_native` (~5x faster) when it is installed; it reads `bytes`
    only (anything else raises, so the caller's fastavro reads it).
    """
    program = compile_program(schema)
    if program is None:
        return None
    compiled = native_reader(program) if native else None
    if compiled is not None:
        read_native: Callable[[bytes, int], tuple[dict[str, Any], int]] = compiled.read
        return read_native
    root = _closures(program)

    def read(body: bytes, pos: int) -> tuple[dict[str, Any], int]:
        value, end = root(body, pos)
        if end > len(body):
            raise Malformed("the body ends early")
        return value, end

    return read
