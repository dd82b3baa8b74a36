"""Avro in the hot path: the shared `WireCodec`, with a faster path for the common framing.

`dua_schemas` keeps its parsed schemas without fastavro's "already parsed" hint, so each of
its `schemaless_reader`/`schemaless_writer` calls parses the schema again (about 60 µs per
record on this machine). Here each released schema is parsed once more *with* the hint and
used for the one case that dominates traffic: Avro single-object framing written with the
newest schema version. That case is read first by a reader compiled from the schema
(`dua_schemas.avro_reader`), which returns exactly fastavro's record or fails, and on any failure by
fastavro with the hinted schema, whose error is the one reported. Outputs are written by
writers compiled from the schemas (`avro_writer.py`), byte for byte what fastavro writes, and
a tagged event whose input came in that common framing is spliced from the input's own bytes
(`splice.py`). Every other case (Confluent framing, an older writer, anything odd) goes
through `WireCodec` unchanged, so both paths accept and reject exactly the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final, cast

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from dua_schemas import (
    DATA_ACCESS_EVENT,
    RECORD_NAMES,
    TAGGED_ACCESS_EVENT,
    Decoded,
    InvalidEvent,
    UndecodablePayload,
    WireCodec,
)
from dua_schemas.avro_reader import compile_reader
from dua_stream.policy import Verdict
from dua_stream.processor.avro_writer import compile_writer
from dua_stream.processor.splice import TaggedSplicer

SINGLE_OBJECT_MAGIC: Final = b"\xc3\x01"
_HEADER: Final = 10


class RecordCodec:
    """Decodes inputs and encodes outputs like `codec`, parsing each schema only once."""

    __slots__ = ("_access_header", "_readers", "_splicer", "_writers", "codec")

    def __init__(self, codec: WireCodec) -> None:
        self.codec = codec
        # fingerprint -> (record name, version, hinted schema, compiled reader or None) for the
        # newest versions; a compiled reader returns the record and the position after it
        self._readers: dict[
            bytes,
            tuple[str, int, Any, Callable[[bytes, int], tuple[dict[str, Any], int]] | None],
        ] = {}
        # record name -> (header bytes, hinted schema, compiled writer), only without a registry
        self._writers: dict[str, tuple[bytes, Any, Callable[[dict[str, Any]], bytes] | None]] = {}
        for name in RECORD_NAMES:
            latest = codec.catalog.latest(name)
            hinted = parse_schema(latest.schema)
            self._readers[latest.fingerprint] = (
                name,
                latest.version,
                hinted,
                compile_reader(latest.schema),
            )
            if codec.registry is None:
                self._writers[name] = (
                    SINGLE_OBJECT_MAGIC + latest.fingerprint,
                    hinted,
                    compile_writer(latest.schema),
                )
        access = codec.catalog.latest(DATA_ACCESS_EVENT)
        self._access_header = SINGLE_OBJECT_MAGIC + access.fingerprint
        self._splicer = (
            TaggedSplicer.build(
                access.schema,
                codec.catalog.latest(TAGGED_ACCESS_EVENT).schema,
                self._writers[TAGGED_ACCESS_EVENT][0],
            )
            if TAGGED_ACCESS_EVENT in self._writers
            else None
        )

    def decode(self, payload: bytes, expected: str) -> Decoded:
        """Like `WireCodec.decode(payload, expected)`: a `Decoded`, or `UndecodablePayload`."""
        fast = (
            self._readers.get(payload[2:_HEADER])
            if payload[:2] == SINGLE_OBJECT_MAGIC and len(payload) >= _HEADER
            else None
        )
        if fast is None or fast[0] != expected:
            return self.codec.decode(payload, expected=expected)
        name, version, schema, compiled = fast
        if compiled is not None:
            try:
                compiled_record, end = compiled(payload, _HEADER)
            except Exception:  # noqa: S110 - on any failure, fastavro below has the last word
                pass
            else:
                if end != len(payload):
                    raise UndecodablePayload(
                        "trailing_bytes", f"{len(payload) - end} bytes after the {name} body"
                    )
                return Decoded(name, version, compiled_record)
        buf = io.BytesIO(payload)
        buf.seek(_HEADER)
        try:
            record = schemaless_reader(buf, schema, None)
        except EOFError as exc:
            raise UndecodablePayload("truncated", f"{name} body ends early") from exc
        except Exception as exc:  # fastavro raises many kinds on garbage; all mean the same here
            raise UndecodablePayload("corrupt_body", f"{name} body: {exc!r}") from exc
        if buf.tell() != len(payload):
            raise UndecodablePayload(
                "trailing_bytes", f"{len(payload) - buf.tell()} bytes after the {name} body"
            )
        return Decoded(name, version, cast(dict[str, Any], record))

    @property
    def splicer(self) -> TaggedSplicer | None:
        """The tagged-event splicer in use, if the schemas allow one (None with a registry)."""
        return self._splicer

    def encode_tagged(
        self, verdict: Verdict, processed_at: datetime, source: bytes | None
    ) -> bytes:
        """`encode(TAGGED_ACCESS_EVENT, verdict.tagged(processed_at))`, the same bytes.

        `source` is the payload `verdict.event` was decoded from. When it is in single-object
        framing with the newest DataAccessEvent schema, the fields the two records share are
        copied from it instead of encoded again.
        """
        splicer = self._splicer
        if splicer is not None and source is not None and source[:_HEADER] == self._access_header:
            try:
                return splicer.encode(source, _HEADER, verdict, processed_at)
            except (IndexError, KeyError, TypeError, ValueError):
                pass  # the full encoding below says precisely what is wrong
        return self.encode(TAGGED_ACCESS_EVENT, verdict.tagged(processed_at))

    def encode(self, name: str, record: dict[str, Any]) -> bytes:
        """Like `WireCodec.encode(name, record)`."""
        fast = self._writers.get(name)
        if fast is None:
            return self.codec.encode(name, record)
        header, schema, compiled = fast
        if compiled is not None:
            try:
                return header + compiled(record)
            except (KeyError, TypeError, ValueError, AttributeError):
                pass  # fastavro below says precisely what is wrong (or fills a default)
        out = io.BytesIO()
        out.write(header)
        try:
            schemaless_writer(out, schema, record)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise InvalidEvent(name, f"does not fit its schema: {exc}") from exc
        return out.getvalue()
