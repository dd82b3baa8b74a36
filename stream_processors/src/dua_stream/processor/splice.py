"""A TaggedAccessEvent's Avro bytes made from its input's bytes: shared fields are copied.

A TaggedAccessEvent repeats most fields of its DataAccessEvent (ids, times, actor, subject,
purpose, operation … attributes) with the same types, and an Avro record is just its fields'
encodings one after another. So instead of encoding every field again (the largest single
cost of the processor after decoding), `TaggedSplicer` finds where the shared fields sit in
the input body by skipping over it, copies those byte ranges, and writes only the fields the
verdict adds (processing time, policy version, categories, tagged elements, violations).

The plan is derived from the two schemas, not written by hand: a field is copied when both
schemas have it with the same type, and consecutive fields that are consecutive in the input
too are copied as one range. `TaggedSplicer.build` returns None when the schemas do not
allow it (a verdict field it cannot write), and the caller encodes the whole record. The
tests compare every spliced byte with the full encoding.

Only valid for the exact bytes the verdict's event was decoded from, written with the
schema given here (the codec checks the framing and fingerprint before calling).

With the native build installed, the same plan runs as one native call
(`dua_schemas_native.Splicer`, see `_native_plan`): boundaries, copies and the verdict's
fields, ~2 µs instead of ~10 µs. The native code reads the verdict's plain fields itself;
Python hands over the findings and the fields that repeat (processing time, element lists)
as ready bytes from its caches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from dua_policy import TaggedElement, Verdict
from dua_schemas.avro_reader import compile_program, native_build, read_long
from dua_schemas.avro_writer import Write, compile_fields

Skip = Callable[[bytes, int], int]  # (body, position) -> position after the value
Step = tuple[int, int, int]  # (first input field, end input field, -1) or (-1, -1, writer index)

_CACHE_LIMIT: Final = 10_000  # distinct element lists remembered with their encoding


class SpliceUnsupported(Exception):
    """The schemas hold a type the splicer cannot skip or a field it cannot write."""


def _skip_long(body: bytes, pos: int) -> int:
    while body[pos] & 0x80:
        pos += 1
    return pos + 1


def _skip_sized(body: bytes, pos: int) -> int:
    first = body[pos]
    if first < 0x80 and not first & 1:  # a length below 64: one byte (most strings here)
        return pos + 1 + (first >> 1)
    size, pos = read_long(body, pos)
    if size < 0:
        raise ValueError("negative length")
    return pos + size


def _skip_boolean(_body: bytes, pos: int) -> int:
    return pos + 1


def _skip_null(_body: bytes, pos: int) -> int:
    return pos


def _union_skipper(branches: list[Skip]) -> Skip:
    def skip(body: bytes, pos: int) -> int:
        index = body[pos]
        if index < 0x80 and not index & 1:  # branch index below 64: one byte
            return branches[index >> 1](body, pos + 1)
        index, pos = read_long(body, pos)
        if index < 0:
            raise ValueError("negative union branch")
        return branches[index](body, pos)

    return skip


def _record_skipper(fields: list[Skip]) -> Skip:
    def skip(body: bytes, pos: int) -> int:
        for field in fields:
            pos = field(body, pos)
        return pos

    return skip


def _blocks_skipper(item: Skip) -> Skip:
    """Arrays and maps: blocks of items, a negative count announcing the block's byte size."""

    def skip(body: bytes, pos: int) -> int:
        while True:
            count, pos = read_long(body, pos)
            if count == 0:
                return pos
            if count < 0:
                size, pos = read_long(body, pos)
                pos += size
                continue
            for _ in range(count):
                pos = item(body, pos)

    return skip


def _map_entry_skipper(value: Skip) -> Skip:
    def skip(body: bytes, pos: int) -> int:
        return value(body, _skip_sized(body, pos))

    return skip


def _skipper(schema: Any, named: dict[str, Skip]) -> Skip:
    if isinstance(schema, list):
        return _union_skipper([_skipper(branch, named) for branch in schema])
    if isinstance(schema, str):
        primitive = _PRIMITIVE_SKIPS.get(schema)
        if primitive is not None:
            return primitive
        if schema in named:
            return named[schema]
        raise SpliceUnsupported(f"type {schema!r}")
    kind = schema["type"]
    if kind == "record":
        fields: list[Skip] = []
        record = _record_skipper(fields)
        named[schema["name"]] = record
        fields.extend(_skipper(f["type"], named) for f in schema["fields"])
        return record
    if kind == "enum":
        named[schema["name"]] = _skip_long
        return _skip_long
    if kind == "array":
        return _blocks_skipper(_skipper(schema["items"], named))
    if kind == "map":
        return _blocks_skipper(_map_entry_skipper(_skipper(schema["values"], named)))
    if kind == "fixed":
        size = int(schema["size"])
        named[schema["name"]] = lambda _body, pos: pos + size
        return named[schema["name"]]
    if isinstance(kind, str):
        return _skipper(kind, named)  # a primitive with attributes (logical types included)
    raise SpliceUnsupported(f"type {schema!r}")


_PRIMITIVE_SKIPS: Final[dict[str, Skip]] = {
    "null": _skip_null,
    "boolean": _skip_boolean,
    "int": _skip_long,
    "long": _skip_long,
    "float": lambda _body, pos: pos + 4,
    "double": lambda _body, pos: pos + 8,
    "string": _skip_sized,
    "bytes": _skip_sized,
}


def _expanded(schema: Any, named: dict[str, Any]) -> Any:
    """A field type with named references replaced by their definitions, docs dropped."""
    if isinstance(schema, list):
        return [_expanded(branch, named) for branch in schema]
    if isinstance(schema, str):
        return _expanded(named[schema], {}) if schema in named else schema
    out = {k: v for k, v in schema.items() if k not in ("doc", "default", "aliases")}
    if out.get("type") in ("record", "error"):
        named.setdefault(out["name"], schema)
        out["fields"] = [
            {"name": f["name"], "type": _expanded(f["type"], named)} for f in schema["fields"]
        ]
    elif out.get("type") in ("enum", "fixed"):
        named.setdefault(out["name"], schema)
    elif out.get("type") == "array":
        out["items"] = _expanded(schema["items"], named)
    elif out.get("type") == "map":
        out["values"] = _expanded(schema["values"], named)
    return out


def _field_types(schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, canonical type text) of each field, named types expanded."""
    named: dict[str, Any] = {}
    return [
        (f["name"], json.dumps(_expanded(f["type"], named), sort_keys=True))
        for f in schema["fields"]
    ]


# The TaggedAccessEvent fields a verdict adds: how to get each one's value from a verdict.
_VERDICT_FIELDS: Final[dict[str, Callable[[Verdict, datetime], Any]]] = {
    "processed_at": lambda _verdict, processed_at: processed_at,
    "policy_version": lambda verdict, _at: verdict.policy_version,
    "purpose_category": lambda verdict, _at: verdict.purpose_category,
    "purpose_known": lambda verdict, _at: verdict.purpose_known,
    "elements": lambda verdict, _at: verdict.elements,  # written by `_ElementsWriter`
    "violations": lambda verdict, _at: verdict.violations,  # written by `_ViolationsWriter`
    "provision": lambda verdict, _at: verdict.provision,
}


@dataclass(slots=True)
class _SameTimeWriter:
    """A timestamp; a whole batch shares one processing time, so the last one is kept."""

    write: Write
    last: tuple[datetime | None, bytes] = (None, b"")

    def __call__(self, moment: datetime, out: list[bytes]) -> None:
        out.append(self.encoded(moment))

    def of(self, _verdict: Verdict, processed_at: datetime) -> bytes:
        """The encoded processing time (a value of the native plan)."""
        return self.encoded(processed_at)

    def encoded(self, moment: datetime) -> bytes:
        known, data = self.last
        if moment is not known:
            parts: list[bytes] = []
            self.write(moment, parts)
            data = b"".join(parts)
            self.last = (moment, data)
        return data


@dataclass(slots=True)
class _ElementsWriter:
    """The tagged elements; the same element list encodes the same way, so it is cached."""

    write: Write
    cache: dict[tuple[TaggedElement, ...], bytes]

    def __call__(self, elements: tuple[TaggedElement, ...], out: list[bytes]) -> None:
        out.append(self.encoded(elements))

    def of(self, verdict: Verdict, _processed_at: datetime) -> bytes:
        """The encoded tagged elements of `verdict` (a value of the native plan)."""
        return self.encoded(verdict.elements)

    def encoded(self, elements: tuple[TaggedElement, ...]) -> bytes:
        known = self.cache.get(elements)
        if known is None:
            parts: list[bytes] = []
            self.write(
                [
                    {"code": e.code, "category": e.category, "sensitivity": e.sensitivity}
                    for e in elements
                ],
                parts,
            )
            known = b"".join(parts)
            if len(self.cache) >= _CACHE_LIMIT:
                self.cache.clear()
            self.cache[elements] = known
        return known


@dataclass(slots=True)
class _ViolationsWriter:
    """The findings' summaries; most events have none (an empty array is one zero byte)."""

    write: Write

    def __call__(self, findings: tuple[Any, ...], out: list[bytes]) -> None:
        if not findings:
            out.append(b"\x00")
        else:
            self.write([f.summary() for f in findings], out)


class TaggedSplicer:
    """Writes TaggedAccessEvent bodies from DataAccessEvent bodies and verdicts."""

    __slots__ = (
        "_getters",
        "_header",
        "_last_input_field",
        "_native",
        "_plan",
        "_skips",
        "_steps",
        "_values",
        "_writers",
    )

    def __init__(
        self,
        header: bytes,
        skips: list[Skip],
        steps: list[Step],
        writers: list[Callable[[Any, list[bytes]], None]],
        getters: list[Callable[[Verdict, datetime], Any]],
        *,
        native: NativePlan | None = None,
    ) -> None:
        self._header = header
        self._native: Any = None
        self._plan: SplicePlan | None = None
        self._values: tuple[Callable[[Verdict, datetime], Any], ...] = ()
        if native is not None:
            self._native, self._plan, self._values = native
        self._skips = tuple(skips)
        self._steps = tuple(steps)
        self._writers = tuple(writers)
        self._getters = tuple(getters)
        self._last_input_field = len(skips)

    @classmethod
    def build(
        cls,
        access_schema: Mapping[str, Any],
        tagged_schema: Mapping[str, Any],
        header: bytes,
        *,
        native: bool = True,
    ) -> TaggedSplicer | None:
        """The splicer for these two schemas, or None when they do not allow splicing.

        `native`: splice with `dua_schemas_native.Splicer` when it is installed (~2 µs instead
        of ~10 µs an event).
        """
        try:
            return cls._build(access_schema, tagged_schema, header, native=native)
        except SpliceUnsupported:
            return None

    @classmethod
    def _build(
        cls,
        access_schema: Mapping[str, Any],
        tagged_schema: Mapping[str, Any],
        header: bytes,
        *,
        native: bool,
    ) -> TaggedSplicer:
        access = _field_types(access_schema)
        position = {name: (i, text) for i, (name, text) in enumerate(access)}
        compiled = compile_fields(dict(tagged_schema))
        if compiled is None:
            raise SpliceUnsupported("the tagged schema has a type the writers do not compile")
        steps: list[Step] = []
        writers: list[Callable[[Any, list[bytes]], None]] = []
        getters: list[Callable[[Verdict, datetime], Any]] = []
        names: list[str] = []
        for name, text in _field_types(tagged_schema):
            shared = position.get(name)
            if shared is not None and shared[1] == text:
                index = shared[0]
                if steps and steps[-1][2] == -1 and steps[-1][1] == index:
                    steps[-1] = (steps[-1][0], index + 1, -1)  # extends the previous range
                else:
                    steps.append((index, index + 1, -1))
                continue
            getter = _VERDICT_FIELDS.get(name)
            if getter is None:
                raise SpliceUnsupported(f"tagged field {name!r} is neither copied nor known")
            write = compiled[name]
            writer: Callable[[Any, list[bytes]], None] = write
            if name == "processed_at":
                writer = _SameTimeWriter(write)
            elif name == "elements":
                writer = _ElementsWriter(write, {})
            elif name == "violations":
                writer = _ViolationsWriter(write)
            steps.append((-1, -1, len(writers)))
            writers.append(writer)
            getters.append(getter)
            names.append(name)
        # Field boundaries are found up to the last one a copied range needs; a range that
        # runs to the input's last field ends at the end of the body, with nothing to skip.
        needed = max(
            (end if end < len(access) else start for start, end, w in steps if w == -1),
            default=0,
        )
        named: dict[str, Skip] = {}
        skips = [_skipper(f["type"], named) for f in access_schema["fields"]]
        plan: NativePlan | None = None
        program = compile_program(dict(access_schema)) if native else None
        if program is not None:
            plan = _native_plan(
                program,
                tagged_schema,
                header,
                steps,
                names=names,
                writers=writers,
                getters=getters,
                needed=needed,
            )
        return cls(header, skips[:needed], steps, writers, getters, native=plan)

    @property
    def native(self) -> bool:
        """Whether `encode` is one call of the native `Splicer`."""
        return self._native is not None

    def native_parts(self) -> NativeSplice | None:
        """The native `Splicer` with what each of its values is, for a native caller that has
        no verdict object (`dua_stream.processor.fastpath`); None when `encode` is not native
        or a value is of another kind than those listed in `NativeSplice`."""
        if self._native is None or self._plan is None:
            return None
        kinds: list[str] = []
        processed_at: Callable[[datetime], bytes] | None = None
        elements: Callable[[tuple[TaggedElement, ...]], bytes] | None = None
        for value in self._values:
            owner = getattr(value, "__self__", None)
            if isinstance(owner, _SameTimeWriter):
                kinds.append("processed_at")
                processed_at = owner.encoded
            elif isinstance(owner, _ElementsWriter):
                kinds.append("elements")
                elements = owner.encoded
            elif value is _summaries:
                kinds.append("summaries")
            else:
                return None
        if processed_at is None or elements is None:
            return None
        return NativeSplice(self._native, self._plan, tuple(kinds), processed_at, elements)

    def encode(self, body: bytes, start: int, verdict: Verdict, processed_at: datetime) -> bytes:
        """The framed TaggedAccessEvent of `verdict`, whose event was decoded from
        `body[start:]` (the whole rest of `body`, written with the access schema)."""
        native = self._native
        if native is not None:  # raises ValueError on bytes it does not read
            values = tuple([get(verdict, processed_at) for get in self._values])
            spliced: bytes = native.encode(body, start, verdict, values)
            return spliced
        bounds = [start]
        pos = start
        for skip in self._skips:
            pos = skip(body, pos)
            bounds.append(pos)
        if pos > len(body):
            raise ValueError("the input body ends early")
        last = self._last_input_field
        end = len(body)
        parts = [self._header]
        writers = self._writers
        getters = self._getters
        for first, stop, writer in self._steps:
            if writer < 0:
                parts.append(body[bounds[first] : bounds[stop] if stop <= last else end])
            else:
                writers[writer](getters[writer](verdict, processed_at), parts)
        return b"".join(parts)


@dataclass(frozen=True, slots=True)
class SplicePlan:
    """The arguments of a native `Splicer`, as plain data: the access and tagged programs
    (`compile_program`), the output's framing, the steps (("copy", first, stop), ("write",
    node, value), ("attr", node, name), ("raw", value)) and how many input fields to bound."""

    input_program: list[tuple[str, Any]]
    output_program: list[tuple[str, Any]]
    header: bytes
    steps: list[tuple[Any, ...]]
    needed: int


# (the native `Splicer`, its plan, the functions giving the values its steps name, in order)
NativePlan = tuple[Any, SplicePlan, tuple[Callable[[Verdict, datetime], Any], ...]]


@dataclass(frozen=True, slots=True)
class NativeSplice:
    """The native `Splicer` of a `TaggedSplicer`, its plan as plain data (from which another
    native module builds its own), and what its values are, in order: "processed_at" (bytes:
    `processed_at(moment)`), "elements" (bytes: `elements(tagged)`) and "summaries" (the
    violation summaries of the event's findings, as `_summaries`)."""

    splicer: Any
    plan: SplicePlan
    values: tuple[str, ...]
    processed_at: Callable[[datetime], bytes]
    elements: Callable[[tuple[TaggedElement, ...]], bytes]


def _summaries(verdict: Verdict, _processed_at: datetime) -> Any:
    findings = verdict.violations
    return [f.summary() for f in findings] if findings else ()


def _native_plan(
    access_program: list[tuple[str, Any]],
    tagged_schema: Mapping[str, Any],
    header: bytes,
    steps: list[Step],
    *,
    names: list[str],
    writers: list[Callable[[Any, list[bytes]], None]],
    getters: list[Callable[[Verdict, datetime], Any]],
    needed: int,
) -> NativePlan | None:
    """The splicing plan as a native `Splicer` and its value getters, or None.

    The fields that repeat from event to event (processing time, element lists) stay in the
    Python writers' caches and reach the native code as ready bytes ("raw"); the verdict's
    plain fields are read there from the verdict itself ("attr": a Python call per field
    cost more than writing it); the findings' summaries are made here and written there.
    """
    tagged_program = compile_program(dict(tagged_schema))
    if tagged_program is None:
        return None
    nodes: dict[str, int] = dict(tagged_program[0][1])
    native_steps: list[tuple[Any, ...]] = []
    values: list[Callable[[Verdict, datetime], Any]] = []
    for first, stop, at in steps:
        if at < 0:
            native_steps.append(("copy", first, stop))
            continue
        writer, getter, name = writers[at], getters[at], names[at]
        if isinstance(writer, (_SameTimeWriter, _ElementsWriter)):
            native_steps.append(("raw", len(values)))
            values.append(writer.of)
        elif isinstance(writer, _ViolationsWriter):
            native_steps.append(("write", nodes[name], len(values)))
            values.append(_summaries)
        elif name in Verdict._fields:
            native_steps.append(("attr", nodes[name], name))
        else:
            native_steps.append(("write", nodes[name], len(values)))
            values.append(getter)
    plan = SplicePlan(access_program, tagged_program, header, native_steps, needed)
    splicer = native_build(
        "Splicer", plan.input_program, plan.output_program, plan.header, plan.steps, plan.needed
    )
    return None if splicer is None else (splicer, plan, tuple(values))
