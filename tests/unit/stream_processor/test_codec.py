"""`RecordCodec` reads and writes exactly what `WireCodec` does, only faster."""

from __future__ import annotations

import pytest

from dua_schemas import UndecodablePayload, WireCodec
from dua_stream.processor import RecordCodec

from .conftest import access_event, opt_out


def test_encodes_the_same_bytes_as_the_wire_codec(codec: RecordCodec, wire: WireCodec) -> None:
    """Single-object framing, byte for byte."""
    event = access_event(trace_id="t-1", attributes={"k": "v"})
    assert codec.encode("DataAccessEvent", event) == wire.encode("DataAccessEvent", event)


def test_decodes_what_the_wire_codec_wrote(codec: RecordCodec, wire: WireCodec) -> None:
    """The fast path returns the record, its name and version."""
    event = access_event()
    decoded = codec.decode(wire.encode("DataAccessEvent", event), "DataAccessEvent")
    assert decoded.record == wire.decode(wire.encode("DataAccessEvent", event)).record
    assert decoded.name == "DataAccessEvent"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty_payload"),
        (b"hello", "unknown_framing"),
        (b"\xc3\x01\x00", "truncated"),
        (b"\x00\x00\x00\x00\x01", "no_registry"),
    ],
)
def test_rejects_like_the_wire_codec(codec: RecordCodec, payload: bytes, reason: str) -> None:
    """Framing problems come back with the wire codec's reason codes."""
    with pytest.raises(UndecodablePayload) as caught:
        codec.decode(payload, "DataAccessEvent")
    assert caught.value.reason == reason


def test_cut_body_and_trailing_bytes_are_rejected(codec: RecordCodec, wire: WireCodec) -> None:
    """A body cut short, or followed by extra bytes, is not a message."""
    good = wire.encode("DataAccessEvent", access_event())
    with pytest.raises(UndecodablePayload) as cut:
        codec.decode(good[:-5], "DataAccessEvent")
    assert cut.value.reason in {"truncated", "corrupt_body"}
    with pytest.raises(UndecodablePayload) as extra:
        codec.decode(good + b"\x00", "DataAccessEvent")
    assert extra.value.reason == "trailing_bytes"


def test_another_record_type_is_unexpected(codec: RecordCodec, wire: WireCodec) -> None:
    """A ConsentChange on the raw topic is refused as unexpected_record."""
    payload = wire.encode("ConsentChange", opt_out("x" * 64))
    with pytest.raises(UndecodablePayload) as caught:
        codec.decode(payload, "DataAccessEvent")
    assert caught.value.reason == "unexpected_record"
