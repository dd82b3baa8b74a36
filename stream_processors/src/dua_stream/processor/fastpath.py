"""The native per-event path of access events: `BatchProcessor._access` for the common case.

With the processor's native build installed (`stream_processors/native`, module
`dua_stream_native`), its `AccessPath` runs a batch's raw messages in one call: decode, quick
validation, the engine's plan lookups, the consent and re-identification checks with their
state writes, the spliced tagged event and the violation records (the findings themselves
are the engine's: `Engine.finding`), and the batch's changelog records.

What crosses to it is declared here, once: `AccessPathSpec` (built once per engine) and
`NativeBatch` (once per batch), read there by field name. Both are plain data (the Avro
programs of `dua_schemas.avro_reader.compile_program`, framings, names, numbers), the
engine's own lookup tables (`EngineTables`: a shape the Python path compiles is found
natively on the next event), the compiled steps' public fields, and a few callables. The
byte-level code (reader, writer, splicer, quick check) is the schemas crate's, built by the
native module from the same programs as `dua_schemas_native`'s.

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

import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from dua_policy import Engine, Finding, TaggedElement
from dua_policy.compiler import CONSENT_MISSING, FIRES, OPTED_OUT, REIDENTIFICATION, Step
from dua_policy.engine import EngineTables
from dua_policy.state import CONSENT_PREFIX, REIDENTIFICATION_PREFIX
from dua_policy.stateful import HISTORY, PRUNE_ABOVE
from dua_schemas import DATA_ACCESS_EVENT, VIOLATION, DataAccessEvent
from dua_schemas.avro_reader import compile_program
from dua_schemas.validation import quick_spec
from dua_stream.processor.codec import SINGLE_OBJECT_MAGIC, RecordCodec
from dua_stream.processor.config import ProcessorTopics
from dua_stream.processor.recheck import ENTRIES, JUDGED_KEPT, JUDGED_PREFIX
from dua_stream.processor.route import Output
from dua_stream.processor.splice import SplicePlan
from dua_stream.processor.state import CONSENT_TABLE, REIDENTIFICATION_TABLE

log = logging.getLogger("dua_stream.processor.fastpath")

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


def _native_module() -> Any:
    """The processor's optional native build (`stream_processors/native`), or None."""
    try:
        return importlib.import_module("dua_stream_native")
    except ImportError:  # the Python path then: the same results, slower
        return None


NATIVE: Final[Any] = _native_module()


@dataclass(frozen=True, slots=True)
class AccessPathSpec:
    """Everything `dua_stream_native.AccessPath` is built from, read there by field name."""

    # byte level: Avro programs (`compile_program`), framings, the quick check's spec
    access_program: list[tuple[str, Any]]  # DataAccessEvent, newest version
    access_header: bytes  # its single-object framing
    quick_check: tuple[Any, ...]  # `dua_schemas.validation.quick_spec()`
    splice: SplicePlan  # the tagged event from the access event's bytes
    splice_values: tuple[str, ...]  # what each splice value is (`NativeSplice.values`)
    violation_program: list[tuple[str, Any]]  # Violation, newest version
    violation_header: bytes
    interned_fields: tuple[str, ...]
    # the policy: the engine's own tables and what its compiled steps' checks mean
    tables: EngineTables
    policy_version: str
    fires: int
    opted_out: int
    consent_missing: int
    reidentification: int
    prune_above: int  # `dua_policy.stateful.PRUNE_ABOVE`
    consent_prefix: str
    reidentification_prefix: str
    consent_history: str  # `dua_policy.stateful.HISTORY`: a value the native path leaves to Python
    # accesses kept for a consent re-check (`recheck.py`): key prefix, entries field, bound
    judged_prefix: str
    judged_entries: str
    judged_kept: int
    finding: Callable[[Step, DataAccessEvent], Finding]  # `Engine.finding`
    # the processor: outputs and state tables
    reidentification_table: str
    consent_table: str
    output: type[Output]
    tagged_topic: str
    violations_topic: str
    no_category: str
    elements: Callable[[tuple[TaggedElement, ...]], bytes]  # encoded tagged elements


@dataclass(frozen=True, slots=True)
class NativeBatch:
    """One batch for `AccessPath.run`, read there by field name."""

    messages: Sequence[Any]  # raw-topic records, in order
    state: Any  # the `TableState` (its `view()`)
    result: Any  # the `BatchResult`
    processed_at: bytes  # the batch's processing time, encoded
    now: datetime
    latest_ms: int  # events later than this are Python's (the clock check)
    headers: Any  # the outputs' headers
    slow: Callable[[Any], None]  # the Python path of one message
    tail: Callable[..., None]  # the Python verdict and outputs of a classified event


def access_path_spec(
    codec: RecordCodec, engine: Engine, topics: ProcessorTopics
) -> AccessPathSpec | None:
    """The spec of the native path for this codec and engine, or None when they do not allow
    it (an engine subclass, a schema registry, readers or a splicer other than native ones)."""
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
    access_program = compile_program(dict(access.schema))
    violation_program = compile_program(dict(violation.schema))
    if access_program is None or violation_program is None:
        return None
    return AccessPathSpec(
        access_program=access_program,
        access_header=SINGLE_OBJECT_MAGIC + access.fingerprint,
        quick_check=quick_spec(),
        splice=parts.plan,
        splice_values=parts.values,
        violation_program=violation_program,
        violation_header=SINGLE_OBJECT_MAGIC + violation.fingerprint,
        interned_fields=INTERNED_FIELDS,
        tables=engine.tables(),
        policy_version=engine.policy_version,
        fires=FIRES,
        opted_out=OPTED_OUT,
        consent_missing=CONSENT_MISSING,
        reidentification=REIDENTIFICATION,
        prune_above=PRUNE_ABOVE,
        consent_prefix=CONSENT_PREFIX,
        reidentification_prefix=REIDENTIFICATION_PREFIX,
        consent_history=HISTORY,
        judged_prefix=JUDGED_PREFIX,
        judged_entries=ENTRIES,
        judged_kept=JUDGED_KEPT,
        finding=engine.finding,
        reidentification_table=REIDENTIFICATION_TABLE,
        consent_table=CONSENT_TABLE,
        output=Output,
        tagged_topic=topics.tagged,
        violations_topic=topics.violations,
        no_category=NO_CATEGORY,
        elements=parts.elements,
    )


def build_access_path(codec: RecordCodec, engine: Engine, topics: ProcessorTopics) -> Any | None:
    """A `dua_stream_native.AccessPath` for this codec and engine, or None when the native
    build is missing (or older than this module) or the codec does not allow it."""
    if NATIVE is None:
        return None
    spec = access_path_spec(codec, engine, topics)
    if spec is None:
        return None
    try:
        return NATIVE.AccessPath(spec)
    except Exception as exc:  # any refusal of the native build means: use Python
        if not _WARNED:  # once: a reload builds a new one
            _WARNED.append(repr(exc))
            log.warning(
                "native access path refused its spec (%s): the Python path runs instead (same "
                "results, slower). Rebuild it with `make setup` (or pip install "
                "./stream_processors/native)",
                exc,
            )
        return None


_WARNED: list[str] = []
