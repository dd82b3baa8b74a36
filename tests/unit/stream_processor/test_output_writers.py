"""The processor's outputs, through the compiled writers, are exactly fastavro's bytes.

Every test runs against both compiled writers: the native one (schemas/native) and the
Python closures.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_writer

from dua_policy import Engine, MemoryState
from dua_schemas import WireCodec
from dua_schemas.avro_writer import compile_writer
from dua_stream.processor import RecordCodec

from .conftest import T0, access_event, ad_event, use_backend


@pytest.fixture(params=["native", "python"])
def native(request: pytest.FixtureRequest) -> bool:
    """Whether the test uses the native writer (skipped when it is not installed)."""
    return use_backend(request.param)


def test_contract_records_are_byte_identical(wire: WireCodec, engine: Engine, native: bool) -> None:
    """Tagged events and violations of real verdicts, as the processor writes them."""
    schemas = {
        name: wire.catalog.latest(name).schema for name in ("TaggedAccessEvent", "Violation")
    }
    writers: dict[str, Callable[[dict[str, Any]], bytes]] = {}
    for name, schema in schemas.items():
        write = compile_writer(schema, native=native)
        assert write is not None
        # the native writer is a method of `dua_schemas_native.Writer`, the Python one a closure
        assert (type(write).__module__ != __name__ and "Writer" in repr(write)) == native
        writers[name] = write

    def fastavro(name: str, record: Any) -> bytes:
        out = io.BytesIO()
        schemaless_writer(out, parse_schema(schemas[name]), record)
        return out.getvalue()

    state = MemoryState()
    now = T0 + timedelta(seconds=1)
    events = [access_event(trace_id="t", attributes={"a": "b"}), ad_event("x" * 64)]
    events.append(access_event(service="carsensor", purpose=None, origin_service="jalan"))
    for event in events:
        verdict = engine.classify(event, state)  # type: ignore[arg-type]
        record = verdict.tagged(now)
        assert writers["TaggedAccessEvent"](record) == fastavro("TaggedAccessEvent", record)
        for v in verdict.violation_records(now):
            assert writers["Violation"](v) == fastavro("Violation", v)


def test_the_codec_writes_what_fastavro_writes_even_where_the_compiled_writer_refuses(
    wire: WireCodec, native: bool
) -> None:
    """A bytearray payload prefix or a missing optional field: the codec's answer is fastavro's."""
    codec = RecordCodec(wire, native=native)
    record = {
        "rejected_at": T0,
        "step_id": "decode",
        "reason": "corrupt_body",
        "detail": "x",
        "source_topic": "raw",
        "source_partition": 0,
        "source_offset": 1,
        "payload_size": 3,
        "payload_prefix": bytearray(b"abc"),
        "key": None,
    }
    assert codec.encode("RejectedEvent", record) == wire.encode("RejectedEvent", record)
