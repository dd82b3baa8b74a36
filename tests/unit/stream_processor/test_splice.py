"""Spliced TaggedAccessEvents: byte for byte the full encoding, from the input's own bytes."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_writer
from hypothesis import given, settings
from hypothesis import strategies as st

from dua_policy import Engine, MemoryState, Verdict
from dua_schemas import DATA_ACCESS_EVENT, TAGGED_ACCESS_EVENT, WireCodec
from dua_schemas.avro_reader import NATIVE, compile_program
from dua_stream.processor import RecordCodec
from dua_stream.processor.splice import TaggedSplicer

from .conftest import T0, access_event, use_backend

NOW = T0 + timedelta(seconds=3)
ELEMENTS = [
    "user.name",
    "user.contact.email",
    "user.contact.phone",
    "user.account.id",
    "user.behavior.browsing_history",
    "user.device.ad_id",
    "user.financial.bank_account",
    "user.content.message",
    "user.custom.unknown",
]
PURPOSES = [
    None,
    "service.user_messaging",
    "marketing.targeted_advertising",
    "fraud_prevention.investigation",
    "payroll.transfer",
    "nonsense.purpose",
]
TEXT = st.text(min_size=1, max_size=70).filter(lambda t: bool(t.strip()))


@pytest.fixture(scope="module", params=["native", "python"])
def codec(request: pytest.FixtureRequest, wire: WireCodec) -> RecordCodec:
    """Every splicing test runs with the native splicer and with the Python one."""
    native = use_backend(request.param)
    codec = RecordCodec(wire, native=native)
    assert codec.splicer is not None
    assert codec.splicer.native == native
    return codec


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    return access_event(
        event_id=str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4)),
        occurred_at=T0 + timedelta(milliseconds=draw(st.integers(-(10**12), 10**12))),
        service=draw(st.sampled_from(["zexy-enmusubi", "jalan", "hotpepper-gourmet"]) | TEXT),
        actor={
            "kind": draw(st.sampled_from(["SERVICE", "EMPLOYEE", "USER", "PARTNER"])),
            "id": draw(TEXT),
        },
        subject_id=draw(st.none() | st.text("0123456789abcdef", min_size=64, max_size=64)),
        elements=draw(st.lists(st.sampled_from(ELEMENTS) | TEXT, min_size=1, max_size=70)),
        purpose=draw(st.sampled_from(PURPOSES)),
        operation=draw(st.sampled_from(["READ", "WRITE", "EXPORT", "SHARE", "JOIN"])),
        processing=draw(st.sampled_from(["RAW", "PSEUDONYMIZED", "STATISTICAL"])),
        destination={
            "kind": draw(st.sampled_from(["INTERNAL", "CLIENT", "AD_PLATFORM", "EMPLOYER"])),
            "name": draw(st.none() | TEXT),
        },
        origin_service=draw(st.none() | st.sampled_from(["jalan", "rikunabi"])),
        consent={
            "targeting_opt_out": draw(st.booleans()),
            "publication_consent": draw(st.booleans()),
            "payroll_other_use_consent": draw(st.booleans()),
        },
        record_count=draw(st.integers(0, 2**31 - 1)),
        trace_id=draw(st.none() | TEXT),
        attributes=draw(st.dictionaries(TEXT, st.text(max_size=80), max_size=5)),
    )


def _verdict(codec: RecordCodec, engine: Engine, payload: bytes) -> Verdict:
    record = codec.decode(payload, DATA_ACCESS_EVENT).record
    return engine.classify(record, MemoryState())  # type: ignore[arg-type]


def _both(codec: RecordCodec, engine: Engine, payload: bytes) -> tuple[bytes, bytes]:
    """(spliced, full): the splicer itself, so a splicing error is not hidden by fallback."""
    verdict = _verdict(codec, engine, payload)
    full = codec.encode(TAGGED_ACCESS_EVENT, verdict.tagged(NOW))
    assert codec.splicer is not None
    assert codec.encode_tagged(verdict, NOW, payload) == codec.splicer.encode(
        payload, 10, verdict, NOW
    )
    return codec.splicer.encode(payload, 10, verdict, NOW), full


@settings(max_examples=300, deadline=None)
@given(event=events())
def test_spliced_bytes_equal_the_full_encoding(
    event: dict[str, Any], codec: RecordCodec, wire: WireCodec, engine: Engine
) -> None:
    """Any event (long element lists, Unicode, times before 1970, findings or none)."""
    spliced, full = _both(codec, engine, wire.encode(DATA_ACCESS_EVENT, event))
    assert spliced == full


def test_the_shared_fields_are_copied_in_ranges(wire: WireCodec) -> None:
    """The current schemas splice: ids and time, actor and subject, purpose, the tail."""
    access = wire.catalog.latest(DATA_ACCESS_EVENT).schema
    tagged = wire.catalog.latest(TAGGED_ACCESS_EVENT).schema
    splicer = TaggedSplicer.build(access, tagged, b"")
    assert splicer is not None
    names = [f["name"] for f in access["fields"]]
    copied = [names[a:b] for a, b, w in splicer._steps if w < 0]
    assert copied == [
        ["event_id", "occurred_at"],
        ["service", "actor", "subject_id"],
        ["purpose"],
        names[names.index("operation") :],
    ]


def test_input_written_in_blocks_is_copied_as_written_and_reads_the_same(
    codec: RecordCodec, wire: WireCodec, engine: Engine
) -> None:
    """Avro lets a writer split arrays and maps into sized blocks; the copy stays readable."""
    access = wire.catalog.latest(DATA_ACCESS_EVENT)
    event = access_event(
        elements=["user.name", "user.account.id", "user.contact.email"],
        attributes={"a": "1", "b": "2"},
    )
    canonical = wire.encode(DATA_ACCESS_EVENT, event)
    header = canonical[:10]
    # Re-write the body by hand with the elements array as two blocks, the second one sized.
    out = io.BytesIO()
    fields = access.schema["fields"]
    split = [f["name"] for f in fields].index("elements")
    before = {**access.schema, "name": "Before", "fields": fields[:split]}
    after = {**access.schema, "name": "After", "fields": fields[split + 1 :]}
    schemaless_writer(out, parse_schema(before), event)
    item = io.BytesIO()
    for code in event["elements"][1:]:
        schemaless_writer(item, parse_schema("string"), code)
    schemaless_writer(out, parse_schema("long"), 1)
    schemaless_writer(out, parse_schema("string"), event["elements"][0])
    schemaless_writer(out, parse_schema("long"), -2)
    schemaless_writer(out, parse_schema("long"), len(item.getvalue()))
    out.write(item.getvalue())
    out.write(b"\x00")
    schemaless_writer(out, parse_schema(after), event)
    blocked = header + out.getvalue()
    assert blocked != canonical
    assert (
        codec.decode(blocked, DATA_ACCESS_EVENT).record
        == codec.decode(canonical, DATA_ACCESS_EVENT).record
    )
    spliced, full = _both(codec, engine, blocked)
    assert wire.decode(spliced).record == wire.decode(full).record


def test_inputs_in_other_framings_are_encoded_in_full(
    codec: RecordCodec, wire: WireCodec, engine: Engine
) -> None:
    """No source, or a source not in the newest single-object framing: the full encoder."""
    payload = wire.encode(DATA_ACCESS_EVENT, access_event())
    verdict = _verdict(codec, engine, payload)
    full = codec.encode(TAGGED_ACCESS_EVENT, verdict.tagged(NOW))
    assert codec.encode_tagged(verdict, NOW, None) == full
    # Same body behind another fingerprint: must not be trusted to have the same layout.
    foreign = payload[:2] + bytes(8) + payload[10:]
    assert codec.encode_tagged(verdict, NOW, foreign) == full


def test_a_tagged_field_the_verdict_does_not_know_disables_splicing(wire: WireCodec) -> None:
    """A future tagged schema with a field of its own: the codec encodes in full instead."""
    access = wire.catalog.latest(DATA_ACCESS_EVENT).schema
    tagged = dict(wire.catalog.latest(TAGGED_ACCESS_EVENT).schema)
    tagged["fields"] = [*tagged["fields"], {"name": "region", "type": "string"}]
    assert TaggedSplicer.build(access, tagged, b"") is None


def test_one_batch_time_is_encoded_once_and_a_new_time_is_not_missed(
    codec: RecordCodec, wire: WireCodec, engine: Engine
) -> None:
    """The processing time is remembered between events; a new batch's time replaces it."""
    payload = wire.encode(DATA_ACCESS_EVENT, access_event())
    verdict = _verdict(codec, engine, payload)
    for moment in (NOW, NOW, datetime(2030, 1, 1, tzinfo=UTC), NOW):
        spliced = codec.encode_tagged(verdict, moment, payload)
        assert wire.decode(spliced).record["processed_at"] == moment


def test_input_only_fastavro_reads_is_encoded_in_full(
    codec: RecordCodec, wire: WireCodec, engine: Engine
) -> None:
    """Union branch -1 (fastavro: the last branch) decodes, but is not split into fields
    by the splicer: the tagged event is encoded in full, and so still correct."""
    payload = wire.encode(DATA_ACCESS_EVENT, access_event(subject_id="abc"))
    marker = b"\x02\x06abc"  # subject_id: branch 1 (string), length 3, "abc"
    assert payload.count(marker) == 1
    odd = payload.replace(marker, b"\x01\x06abc")
    verdict = _verdict(codec, engine, odd)
    assert verdict.event["subject_id"] == "abc"
    assert codec.splicer is not None
    with pytest.raises(ValueError):  # noqa: PT011 - the splicer's own refusal, any wording
        codec.splicer.encode(odd, 10, verdict, NOW)
    assert codec.encode_tagged(verdict, NOW, odd) == codec.encode(
        TAGGED_ACCESS_EVENT, verdict.tagged(NOW)
    )


def test_cut_or_corrupt_input_is_refused_with_an_error_the_codec_catches(
    codec: RecordCodec, wire: WireCodec, engine: Engine
) -> None:
    """Every prefix and every one-byte change of a body: bytes or IndexError/ValueError,
    never another exception (a native panic would stop the worker)."""
    payload = wire.encode(DATA_ACCESS_EVENT, access_event(trace_id="t", attributes={"a": "b"}))
    verdict = _verdict(codec, engine, payload)
    assert codec.splicer is not None
    refused = 0
    bodies = [payload[:cut] for cut in range(10, len(payload))]
    bodies += [
        payload[:at] + bytes([payload[at] ^ 0xFF]) + payload[at + 1 :]
        for at in range(10, len(payload))
    ]
    for body in bodies:
        try:
            codec.splicer.encode(body, 10, verdict, NOW)
        except (IndexError, ValueError):
            refused += 1
    assert refused > len(payload) // 2  # cuts before the copied tail are all caught


@pytest.mark.parametrize(
    ("step", "refusal"),
    [
        (("attr", 10_000, "policy_version"), "unknown node"),
        (("write", 10_000, 0), "unknown node"),
        (("attr", 0), "unknown splice step"),
        (("copy", 3, 3), "outside the input fields"),
    ],
)
def test_the_native_splicer_refuses_a_plan_it_cannot_follow(
    wire: WireCodec, step: tuple[Any, ...], refusal: str
) -> None:
    """A wrong plan is refused when it is built (then Python splices), never followed."""
    use_backend("native")
    access = compile_program(dict(wire.catalog.latest(DATA_ACCESS_EVENT).schema))
    tagged = compile_program(dict(wire.catalog.latest(TAGGED_ACCESS_EVENT).schema))
    with pytest.raises(ValueError, match=refusal):
        NATIVE.Splicer(access, tagged, b"", [step], 4)
