"""Step `sink.decode`, batched: Avro bodies straight to one ClickHouse Native block, natively.

`row_mapping` maps one decoded record at a time in Python; the plans below say the same mapping
as data (which field becomes which column, and how), and `schemas/native`'s `NativeBlock`
applies them to a whole segment's bodies in one call: no Python object per field, no row tuples
for clickhouse-connect to serialize again, and columns ClickHouse takes as they are (Native, not
RowBinary: about 40% less insert time, `docs/performance.md`). A body the native code does not
read or write exactly as the Python path would (another framing or schema version, a timestamp
outside what DateTime64 stores, anything odd) is *refused*, and the Python path maps it: a
rejected row with its reason, as before. `tests/unit/sink/test_native_block.py` checks that both
give the same bytes.

Without the native build (or with a build older than this module) `NativeBlocks.for_records`
returns no plans and every message takes the Python path.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from dua_schemas import TAGGED_ACCESS_EVENT, VIOLATION, WireCodec, to_millis
from dua_schemas.avro_reader import compile_program, native_build
from dua_schemas.avro_writer import varint
from dua_schemas.wire import SINGLE_OBJECT_MAGIC
from dua_sink.row_mapping import EARLIEST, LATEST
from dua_sink.tables import ACCESS_EVENTS, COLUMNS, VIOLATIONS, TableName

log = logging.getLogger("dua_sink.native_block")

# (column, kind, path) — kind "each:<kind>" takes the path to an array of records and the
# path inside each item. Kinds and their rules: `dua_schemas_native.NativeBlock`. The order is
# the table's column order (`tables.COLUMNS`); "partition"/"offset" come from the message.
Plan = tuple[tuple[Any, ...], ...]

ACCESS_EVENT_PLAN: Final[Plan] = (
    ("event_id", "string", ("event_id",)),
    ("occurred_at", "datetime64", ("occurred_at",)),
    ("processed_at", "datetime64", ("processed_at",)),
    ("policy_version", "string", ("policy_version",)),
    ("service", "string", ("service",)),
    ("actor_kind", "string", ("actor", "kind")),
    ("actor_id", "string", ("actor", "id")),
    ("subject_id", "string_or_empty", ("subject_id",)),
    ("elements", "each:string", ("elements",), ("code",)),
    ("element_categories", "each:string", ("elements",), ("category",)),
    ("element_sensitivities", "each:string_or_empty", ("elements",), ("sensitivity",)),
    ("purpose", "string_or_empty", ("purpose",)),
    ("purpose_category", "string_or_empty", ("purpose_category",)),
    ("purpose_known", "bool", ("purpose_known",)),
    ("operation", "string", ("operation",)),
    ("processing", "string", ("processing",)),
    ("destination_kind", "string", ("destination", "kind")),
    ("destination_name", "string_or_empty", ("destination", "name")),
    ("origin_service", "string_or_empty", ("origin_service",)),
    ("targeting_opt_out", "bool", ("consent", "targeting_opt_out")),
    ("publication_consent", "bool", ("consent", "publication_consent")),
    ("payroll_other_use_consent", "bool", ("consent", "payroll_other_use_consent")),
    ("record_count", "int32", ("record_count",)),
    ("trace_id", "string_or_empty", ("trace_id",)),
    ("attributes", "map", ("attributes",)),
    ("violation_rules", "each:string", ("violations",), ("rule",)),
    ("violation_severities", "each:string", ("violations",), ("severity",)),
    ("violation_modes", "each:string", ("violations",), ("mode",)),
    ("provision_third_party", "bool", ("provision", "third_party")),
    ("provision_recipient_registered", "bool", ("provision", "recipient_registered")),
    ("provision_recipient_address", "string_or_empty", ("provision", "recipient_address")),
    (
        "provision_recipient_representative",
        "string_or_empty",
        ("provision", "recipient_representative"),
    ),
    ("provision_basis", "string_or_empty", ("provision", "basis")),
    ("provision_linkable", "bool", ("provision", "linkable")),
    ("provision_link_consent", "bool", ("provision", "link_consent")),
    ("source_partition", "partition"),
    ("source_offset", "offset"),
)

VIOLATION_PLAN: Final[Plan] = (
    ("violation_id", "string", ("violation_id",)),
    ("event_id", "string", ("event_id",)),
    ("occurred_at", "datetime64", ("occurred_at",)),
    ("detected_at", "datetime64", ("detected_at",)),
    ("policy_version", "string", ("policy_version",)),
    ("rule", "string", ("rule",)),
    ("severity", "string", ("severity",)),
    ("mode", "string", ("mode",)),
    ("service", "string", ("service",)),
    ("actor_kind", "string", ("actor_kind",)),
    ("actor_id", "string", ("actor_id",)),
    ("subject_id", "string_or_empty", ("subject_id",)),
    ("purpose", "string_or_empty", ("purpose",)),
    ("purpose_category", "string_or_empty", ("purpose_category",)),
    ("destination_kind", "string", ("destination_kind",)),
    ("elements", "each:string", ("elements",), ()),
    ("message", "string", ("message",)),
    ("trace_id", "string_or_empty", ("trace_id",)),
    ("detected_late_ms", "int64", ("detected_late_ms",)),
    ("source_partition", "partition"),
    ("source_offset", "offset"),
)

PLANS: Final[dict[str, tuple[TableName, Plan]]] = {
    TAGGED_ACCESS_EVENT: (ACCESS_EVENTS, ACCESS_EVENT_PLAN),
    VIOLATION: (VIOLATIONS, VIOLATION_PLAN),
}


class PlanMismatch(ValueError):
    """A plan that does not name the table's columns, or a field its schema lacks."""


def _path(program: Sequence[tuple[str, Any]], node: int, names: Sequence[str]) -> list[int]:
    """Field indexes of `names` from record `node` (through nullable-free records)."""
    indexes: list[int] = []
    for name in names:
        kind, fields = program[node]
        if kind != "record":
            raise PlanMismatch(f"{name!r} is not inside a record")
        found = [i for i, (field, _) in enumerate(fields) if field == name]
        if not found:
            raise PlanMismatch(f"no field {name!r}")
        indexes.append(found[0])
        node = fields[found[0]][1]
    return indexes


def _node_at(program: Sequence[tuple[str, Any]], names: Sequence[str]) -> int:
    node = 0
    for name in names:
        fields = program[node][1]
        node = next(n for field, n in fields if field == name)
    return node


def compile_columns(
    program: Sequence[tuple[str, Any]], plan: Plan, columns: Sequence[str]
) -> list[tuple[Any, ...]]:
    """The native columns of `plan` over `program`; `PlanMismatch` unless it fits exactly."""
    if tuple(entry[0] for entry in plan) != tuple(columns):
        raise PlanMismatch(f"the plan's columns are not the table's: {list(columns)}")
    out: list[tuple[Any, ...]] = []
    for entry in plan:
        kind = entry[1]
        if kind in ("partition", "offset"):
            out.append((kind,))
        elif kind.startswith("each:"):
            array = _node_at(program, entry[2])
            if program[array][0] != "array":
                raise PlanMismatch(f"{entry[0]}: {entry[2]} is not an array")
            item = program[array][1]
            out.append(
                ("each", kind[5:], _path(program, 0, entry[2]), _path(program, item, entry[3]))
            )
        else:
            out.append(("field", kind, _path(program, 0, entry[2])))
    return out


@dataclass(frozen=True, slots=True)
class NativeBlocks:
    """One record's bodies → a Native block of its table."""

    table: TableName
    header: bytes
    builder: Any

    def block(
        self, payloads: list[bytes | None], partition: int, offsets: list[int]
    ) -> tuple[bytes, int, list[int]]:
        """The Native block of the payloads not refused, its row count, and the indexes of
        those refused."""
        data, rows, refused = self.builder.block(payloads, self.header, partition, offsets)
        return bytes(data), int(rows), list(refused)

    @classmethod
    def for_records(cls, codec: WireCodec) -> dict[str, NativeBlocks]:
        """The native row builders by record name; empty without the native build."""
        built: dict[str, NativeBlocks] = {}
        for name, (table, plan) in PLANS.items():
            version = codec.catalog.latest(name)
            program = compile_program(version.schema)
            if program is None:
                continue
            try:
                columns = compile_columns(program, plan, COLUMNS[table])
            except PlanMismatch as exc:
                log.warning("sink.decode: %s rows are mapped in Python: %s", table, exc)
                continue
            builder = native_build(
                "NativeBlock", program, columns, list(COLUMNS[table]), MIN_MS, MAX_MS
            )
            if builder is not None:
                built[name] = cls(table, SINGLE_OBJECT_MAGIC + version.fingerprint, builder)
        return built


def with_constant_column(block: bytes, name: str, value: str) -> bytes:
    """A Native block with one more String column, `value` in every row (the write's id)."""
    columns, at = _read_count(block, 0)
    rows, at = _read_count(block, at)
    cell = _text(value.encode())
    return (
        b"".join(
            (varint(columns + 1), varint(rows), block[at:], _text(name.encode()), _text(b"String"))
        )
        + cell * rows
    )


def _text(data: bytes) -> bytes:
    return varint(len(data)) + data


def _read_count(data: bytes, at: int) -> tuple[int, int]:
    n, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            return n, at
        shift += 7


def _millis(moment: datetime) -> int:
    return to_millis(moment.astimezone(UTC))


# The DateTime64 range `row_mapping` accepts, in milliseconds.
MIN_MS: Final = _millis(EARLIEST)
MAX_MS: Final = _millis(LATEST)
