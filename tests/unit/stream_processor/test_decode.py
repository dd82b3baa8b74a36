"""Decoding steps return records or `Rejection`s, never raise."""

from __future__ import annotations

from dua_schemas import WireCodec
from dua_stream.processor import RecordCodec, Rejection, decode_access, decode_consent

from .conftest import access_event, opt_out


def test_valid_event_comes_back_as_a_record(codec: RecordCodec, wire: WireCodec) -> None:
    """A valid event is returned as its record."""
    event = access_event()
    decoded = decode_access(codec, wire.encode("DataAccessEvent", event))
    assert not isinstance(decoded, Rejection)
    assert decoded["event_id"] == event["event_id"]


def test_undecodable_payload_names_the_decode_step(codec: RecordCodec) -> None:
    """Garbage is rejected at step `decode` with the codec's reason."""
    assert decode_access(codec, b"garbage") == Rejection(
        "decode",
        "unknown_framing",
        "starts with 6761; expected c301 (Avro single-object) or 00 (Confluent schema-registry "
        "framing)",
    )


def test_missing_value_is_an_empty_payload(codec: RecordCodec) -> None:
    """A tombstone (no value) on the raw topic is rejected, not a crash."""
    rejection = decode_access(codec, None)
    assert isinstance(rejection, Rejection)
    assert rejection.reason == "empty_payload"


def test_invalid_event_is_rejected_at_validate(codec: RecordCodec, wire: WireCodec) -> None:
    """An event that decodes but breaks the contract is `invalid_event`, naming the field."""
    rejection = decode_access(codec, wire.encode("DataAccessEvent", access_event(elements=[])))
    assert isinstance(rejection, Rejection)
    assert (rejection.step_id, rejection.reason) == ("validate", "invalid_event")
    assert rejection.detail.startswith("elements:")


def test_consent_change_decodes_and_validates(codec: RecordCodec, wire: WireCodec) -> None:
    """A ConsentChange comes back as its record; garbage as a consent-step rejection."""
    decoded = decode_consent(codec, wire.encode("ConsentChange", opt_out("a" * 64)))
    assert not isinstance(decoded, Rejection)
    assert decoded["targeting_opt_out"] is True
    rejection = decode_consent(codec, b"\x01")
    assert isinstance(rejection, Rejection)
    assert rejection.step_id == "consent"
