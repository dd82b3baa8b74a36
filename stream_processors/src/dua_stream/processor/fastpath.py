"""The native per-event path of access events: `BatchProcessor._access` for the common case.

With the native build installed (schemas/native), `dua_schemas_native.AccessPath` runs a
batch's raw messages in one call: decode, quick validation, the engine's plan lookups, the
consent and re-identification checks with their state writes, the findings (the rules'
message templates filled in, violation ids), the spliced tagged event and the violation
records, and the batch's changelog records. It reads the engine's and the codec's own
objects, so a shape the Python path compiles is found natively on the next event.

It leaves to Python, message by message and in order (so per-subject order holds), whatever
it would not do exactly as Python does, *before* it changes any state: other framings,
bodies it does not read, events the quick check does not accept (Python says which field is
wrong), unknown purposes, shapes and element lists not compiled yet, event times too far
ahead, state of an unexpected form. Once an event's state is written, what it cannot write
natively goes to `BatchProcessor._findings`, which makes the verdict and outputs in Python.
The outputs, state and counters are the same as the Python path's, byte for byte: the tests
run both on the same inputs and compare (tests/unit/stream_processor/test_fastpath.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

from dua_schemas import DATA_ACCESS_EVENT, VIOLATION
from dua_schemas.avro_reader import compile_program, native_build
from dua_schemas.validation import quick_spec
from dua_stream.policy import Engine, Finding
from dua_stream.policy.compiler import FIRES, OPTED_OUT, REIDENTIFICATION
from dua_stream.policy.messages import describe_purpose
from dua_stream.policy.state import CONSENT_PREFIX, REIDENTIFICATION_PREFIX
from dua_stream.policy.stateful import PRUNE_ABOVE
from dua_stream.policy.verdict import VIOLATION_ID_LENGTH
from dua_stream.processor.codec import SINGLE_OBJECT_MAGIC, RecordCodec
from dua_stream.processor.config import ProcessorTopics
from dua_stream.processor.route import Output
from dua_stream.processor.state import REIDENTIFICATION_TABLE

NO_CATEGORY: Final = "none"  # the events counter's purpose category of events without one
# The fields whose strings recur from event to event (codes, names): decoded as one object per
# distinct value, so the engine's lookups find the very object they hold. Not ids.
INTERNED_FIELDS: Final = (
    "service",
    "actor",
    "elements",
    "purpose",
    "destination",
    "origin_service",
    "consent",
)


def build_access_path(codec: RecordCodec, engine: Engine, topics: ProcessorTopics) -> Any | None:
    """A `dua_schemas_native.AccessPath` for this codec and engine, or None when the native
    build is missing (or older than this module) or the codec does not allow it (a schema
    registry, readers other than the native ones)."""
    wire = codec.codec
    splicer = codec.splicer
    if type(engine) is not Engine:  # a subclass may classify otherwise
        return None
    if wire.registry is not None or not wire.native_reading or splicer is None:
        return None
    parts = splicer.native_parts()
    if parts is None:
        return None
    access = wire.catalog.latest(DATA_ACCESS_EVENT)
    violation = wire.catalog.latest(VIOLATION)
    reader = _native("Reader", access.schema)
    writer = _native("Writer", violation.schema)
    checker = native_build("Checker", quick_spec())
    if reader is None or writer is None or checker is None:
        return None
    tables = engine.tables()
    return native_build(
        "AccessPath",
        reader,
        checker,
        parts.splicer,
        SINGLE_OBJECT_MAGIC + access.fingerprint,
        list(parts.values),
        tables.purposes,
        tables.services,
        list(tables.consent_flags),
        tables.plans,
        tables.window_ms,
        engine.policy_version,
        (FIRES, OPTED_OUT, REIDENTIFICATION),
        PRUNE_ABOVE,
        REIDENTIFICATION_PREFIX,
        CONSENT_PREFIX,
        REIDENTIFICATION_TABLE,
        Output,
        topics.tagged,
        NO_CATEGORY,
        parts.elements,
        writer,
        SINGLE_OBJECT_MAGIC + violation.fingerprint,
        topics.violations,
        list(INTERNED_FIELDS),
        Finding,
        list(Finding._fields),
        {code: describe_purpose(code, purpose) for code, purpose in tables.purposes.items()},
        describe_purpose(None, None),
        tables.window_text,
        hashlib.sha256,
        VIOLATION_ID_LENGTH,
    )


def _native(name: str, schema: Mapping[str, Any]) -> Any | None:
    """A native `Reader` or `Writer` of `schema`, or None."""
    program = compile_program(dict(schema))
    return native_build(name, program) if program is not None else None
