"""Avro in the hot path: the shared `WireCodec`, with faster writing for the common framing.

Reading is `WireCodec.decode` (it reads bodies of the newest schema versions with readers
compiled from the schemas). Writing, when there is no schema registry: outputs are written by
writers compiled from the schemas (`dua_schemas.avro_writer`), byte for byte what fastavro
writes, and a tagged event whose input came in single-object framing with the newest
DataAccessEvent schema is spliced from the input's own bytes (`splice.py`). With a registry,
everything goes through `WireCodec` unchanged.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from fastavro import schemaless_writer

from dua_policy import Verdict
from dua_schemas import (
    DATA_ACCESS_EVENT,
    RECORD_NAMES,
    TAGGED_ACCESS_EVENT,
    Decoded,
    InvalidEvent,
    WireCodec,
)
from dua_schemas.avro_writer import compile_writer
from dua_stream.processor.splice import TaggedSplicer

SINGLE_OBJECT_MAGIC: Final = b"\xc3\x01"
_HEADER: Final = 10


class RecordCodec:
    """Decodes inputs and encodes outputs like `codec`, writing the common cases faster."""

    __slots__ = ("_access_header", "_splicer", "_writers", "codec")

    def __init__(self, codec: WireCodec, *, native: bool = True) -> None:
        """`native`: write and splice with the native code when it is installed."""
        self.codec = codec
        # record name -> (header bytes, parsed schema, compiled writer), only without a registry
        self._writers: dict[str, tuple[bytes, Any, Callable[[dict[str, Any]], bytes] | None]] = {}
        if codec.registry is None:
            for name in RECORD_NAMES:
                latest = codec.catalog.latest(name)
                self._writers[name] = (
                    SINGLE_OBJECT_MAGIC + latest.fingerprint,
                    latest.parsed,
                    compile_writer(latest.schema, native=native),
                )
        access = codec.catalog.latest(DATA_ACCESS_EVENT)
        self._access_header = SINGLE_OBJECT_MAGIC + access.fingerprint
        self._splicer = (
            TaggedSplicer.build(
                access.schema,
                codec.catalog.latest(TAGGED_ACCESS_EVENT).schema,
                self._writers[TAGGED_ACCESS_EVENT][0],
                native=native,
            )
            if TAGGED_ACCESS_EVENT in self._writers
            else None
        )

    def decode(self, payload: bytes, expected: str) -> Decoded:
        """`WireCodec.decode(payload, expected)`: a `Decoded`, or `UndecodablePayload`."""
        return self.codec.decode(payload, expected=expected)

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
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise InvalidEvent(name, f"does not fit its schema: {exc}") from exc
        return out.getvalue()
