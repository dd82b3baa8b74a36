"""Bytes on Kafka: Avro single-object encoding, or Confluent framing with a schema registry.

Single-object encoding (the default, no registry needed)::

    C3 01 | 8-byte CRC-64-AVRO fingerprint (little-endian) | Avro binary body

Confluent framing (when a schema registry is configured)::

    00 | 4-byte big-endian schema id | Avro binary body

Map entries are written sorted by the UTF-8 bytes of their keys, whatever order the caller's
dict has: every SDK writes the same bytes for the same record.

Readers accept both, whatever they write: producers may be configured differently from the
pipeline during a migration. Anything else is an `UndecodablePayload`, never a crash.

A body written with the newest version of its schema (the common case: no resolution) is
read by a reader compiled from that schema (`avro_reader.py`), which returns exactly what
fastavro would or fails; on any failure fastavro reads it, and its verdict is the one given.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

from fastavro import schemaless_reader, schemaless_writer

from dua_schemas.avro_reader import Read, compile_reader
from dua_schemas.avro_writer import map_in_order
from dua_schemas.catalog import SchemaCatalog, SchemaVersion, default_catalog, schema_version
from dua_schemas.errors import InvalidEvent, UndecodablePayload, UnknownSchema

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"
_SINGLE_OBJECT_HEADER = 10
_CONFLUENT_HEADER = 5


class Decoded(NamedTuple):
    """A decoded message: which record it is, the version it was written with, its content.

    A NamedTuple, not a frozen dataclass: one is made per message read.
    """

    name: str
    writer_version: int
    record: dict[str, Any]


class SchemaRegistry(Protocol):
    """What the codec needs of a schema registry (confluent-kafka's client fits)."""

    def register(self, subject: str, schema: dict[str, Any]) -> int: ...

    def lookup(self, schema_id: int) -> dict[str, Any]: ...


def _map_fields(schema: dict[str, Any]) -> tuple[str, ...]:
    """The record's fields of type map (the only place our schemas have maps)."""
    return tuple(
        f["name"]
        for f in schema["fields"]
        if isinstance(f["type"], dict) and f["type"].get("type") == "map"
    )


def _write_body(version: SchemaVersion, record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    try:
        for name in _map_fields(version.schema):
            if isinstance(record.get(name), Mapping):
                record = {**record, name: map_in_order(record[name])}
        schemaless_writer(out, version.parsed, record)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise InvalidEvent(version.name, f"does not fit schema v{version.version}: {exc}") from exc
    return out.getvalue()


def _read_body(
    payload: bytes,
    start: int,
    writer: SchemaVersion,
    reader: SchemaVersion,
    compiled: Read | None = None,
) -> Any:
    if compiled is not None:
        try:
            record, end = compiled(payload, start)
        except Exception:  # noqa: S110 - on any failure, fastavro below has the last word
            pass
        else:
            if end != len(payload):
                raise UndecodablePayload(
                    "trailing_bytes", f"{len(payload) - end} bytes after the {writer.name} body"
                )
            return record
    buf = io.BytesIO(payload)
    buf.seek(start)
    try:
        if writer is reader:
            record = schemaless_reader(buf, writer.parsed, None)
        else:
            record = schemaless_reader(buf, writer.parsed, reader.parsed)
    except EOFError as exc:
        raise UndecodablePayload("truncated", f"{writer.name} body ends early") from exc
    except Exception as exc:  # fastavro raises many kinds on garbage; all mean the same here
        raise UndecodablePayload("corrupt_body", f"{writer.name} body: {exc!r}") from exc
    if buf.tell() != len(payload):
        raise UndecodablePayload(
            "trailing_bytes", f"{len(payload) - buf.tell()} bytes after the {writer.name} body"
        )
    return record


class WireCodec:
    """Encodes records for Kafka and decodes whatever framing arrives.

    Decoded records are always in the *newest* released version of their schema (Avro schema
    resolution fills fields an older writer did not have with their defaults).
    """

    def __init__(
        self,
        catalog: SchemaCatalog | None = None,
        registry: SchemaRegistry | None = None,
        *,
        compiled_readers: bool = True,
        native_readers: bool = True,
    ) -> None:
        """`compiled_readers=False` reads everything with fastavro (a reference for tests);
        `native_readers=False` compiles readers to Python even when the native build is there."""
        self.catalog = catalog or default_catalog()
        self.registry = registry
        self._registry_ids: dict[str, int] = {}
        self._registry_schemas: dict[int, SchemaVersion] = {}
        self._compile = compiled_readers
        self._native = native_readers
        # writer fingerprint -> (reader version, compiled reader when no resolution is needed)
        self._readers: dict[bytes, tuple[SchemaVersion, Read | None]] = {}

    @property
    def native_reading(self) -> bool:
        """Whether bodies written with the newest schema versions are read by the native
        readers when they are built (not fastavro, not the compiled Python readers)."""
        return self._compile and self._native

    # -- writing -------------------------------------------------------------------------
    def encode(self, name: str, record: dict[str, Any]) -> bytes:
        """Encode `record` as the newest version of `name` in the configured framing."""
        version = self.catalog.latest(name)
        body = _write_body(version, record)
        if self.registry is None:
            return SINGLE_OBJECT_MAGIC + version.fingerprint + body
        return CONFLUENT_MAGIC + struct.pack(">I", self._registry_id(version)) + body

    def encode_single_object(self, version: SchemaVersion, record: dict[str, Any]) -> bytes:
        """Encode with an explicit schema version (tests of older writers, golden vectors)."""
        return SINGLE_OBJECT_MAGIC + version.fingerprint + _write_body(version, record)

    def _registry_id(self, version: SchemaVersion) -> int:
        schema_id = self._registry_ids.get(version.name)
        if schema_id is None:
            assert self.registry is not None
            schema_id = self.registry.register(f"dua.audit.{version.name}", version.schema)
            self._registry_ids[version.name] = schema_id
            self._registry_schemas[schema_id] = version
        return schema_id

    # -- reading -------------------------------------------------------------------------
    def decode(self, payload: bytes, expected: str | None = None) -> Decoded:
        """Decode a message; `expected` rejects a valid message of another record type."""
        if not payload:
            raise UndecodablePayload("empty_payload", "the message has no bytes")
        if payload[:2] == SINGLE_OBJECT_MAGIC:
            if len(payload) < _SINGLE_OBJECT_HEADER:
                raise UndecodablePayload(
                    "truncated", "single-object header is shorter than 10 bytes"
                )
            writer = self.catalog.by_fingerprint(payload[2:_SINGLE_OBJECT_HEADER])
            start = _SINGLE_OBJECT_HEADER
        elif payload[:1] == CONFLUENT_MAGIC:
            if len(payload) < _CONFLUENT_HEADER:
                raise UndecodablePayload("truncated", "Confluent header is shorter than 5 bytes")
            writer = self._writer_for_id(struct.unpack(">I", payload[1:_CONFLUENT_HEADER])[0])
            start = _CONFLUENT_HEADER
        else:
            raise UndecodablePayload(
                "unknown_framing",
                f"starts with {payload[:2].hex()}; expected c301 (Avro single-object) "
                "or 00 (Confluent schema-registry framing)",
            )
        if expected is not None and writer.name != expected:
            raise UndecodablePayload(
                "unexpected_record", f"expected a {expected}, got a {writer.name}"
            )
        try:
            reader, compiled = self._readers[writer.fingerprint]
        except KeyError:
            reader, compiled = self._readers[writer.fingerprint] = self._reader_for(writer)
        return Decoded(
            writer.name, writer.version, _read_body(payload, start, writer, reader, compiled)
        )

    def _reader_for(self, writer: SchemaVersion) -> tuple[SchemaVersion, Read | None]:
        """The version to read `writer`'s bodies as, and the compiled reader when they match."""
        reader = self.catalog.latest(writer.name)
        if writer is not reader or not self._compile:
            return reader, None  # schema resolution (or the reference setting): fastavro
        return reader, compile_reader(writer.schema, native=self._native)

    def _writer_for_id(self, schema_id: int) -> SchemaVersion:
        known = self._registry_schemas.get(schema_id)
        if known is not None:
            return known
        if self.registry is None:
            raise UnknownSchema(
                "no_registry",
                f"message framed for schema-registry id {schema_id}, but DUA_SCHEMA_REGISTRY_URL "
                "is not set",
            )
        try:
            schema = self.registry.lookup(schema_id)
        except Exception as exc:  # the registry client raises its own kinds
            raise UnknownSchema("unknown_schema_id", f"registry id {schema_id}: {exc}") from exc
        candidate = schema_version(str(schema.get("name", "")), 0, schema)
        try:
            version = self.catalog.by_fingerprint(candidate.fingerprint)
        except UnknownSchema:
            raise UnknownSchema(
                "unknown_schema_id",
                f"registry id {schema_id} holds a schema that is not a released dua schema",
            ) from None
        self._registry_schemas[schema_id] = version
        return version


class ConfluentRegistry:
    """`SchemaRegistry` backed by confluent-kafka's schema-registry client."""

    def __init__(self, url: str) -> None:
        try:
            from confluent_kafka.schema_registry import (  # noqa: PLC0415 - optional dependency
                SchemaRegistryClient,
            )
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise UnknownSchema(
                "no_registry_client",
                "DUA_SCHEMA_REGISTRY_URL is set but confluent-kafka's schema-registry client "
                f"cannot be imported ({exc}): pip install 'dua-schemas[registry]'",
            ) from exc
        self._client = SchemaRegistryClient({"url": url})

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        from confluent_kafka.schema_registry import Schema  # noqa: PLC0415

        return int(self._client.register_schema(subject, Schema(json.dumps(schema), "AVRO")))

    def lookup(self, schema_id: int) -> dict[str, Any]:
        found = self._client.get_schema(schema_id)
        schema: dict[str, Any] = json.loads(found.schema_str or "{}")
        return schema


def codec_for(registry_url: str | None) -> WireCodec:
    """The codec a process should use given its `DUA_SCHEMA_REGISTRY_URL` (or None)."""
    return WireCodec(registry=ConfluentRegistry(registry_url) if registry_url else None)
