"""The RejectedEvent record and headers of a DLQ message."""

from __future__ import annotations

from dua_schemas import WireCodec
from dua_stream.processor import Rejection, SourcePosition, rejected_record
from dua_stream.processor.reject import rejection_headers

from .conftest import T0

SOURCE = SourcePosition("raw", 2, 41)


def test_record_keeps_reason_origin_and_a_bounded_prefix(wire: WireCodec) -> None:
    """The record fits the schema, keeps 16 of 100 bytes, and says where the input was."""
    payload = bytes(range(100))
    record = rejected_record(
        Rejection("decode", "corrupt_body", "bad"), SOURCE, payload, b"key", T0, prefix_bytes=16
    )
    assert wire.decode(wire.encode("RejectedEvent", record)).record == record
    assert record["payload_prefix"] == payload[:16]
    assert record["payload_size"] == 100
    assert (record["source_topic"], record["source_partition"], record["source_offset"]) == (
        "raw",
        2,
        41,
    )


def test_missing_payload_is_size_zero() -> None:
    """A message without a value is recorded with size 0 and an empty prefix."""
    record = rejected_record(
        Rejection("decode", "empty_payload", "none"), SOURCE, None, None, T0, prefix_bytes=16
    )
    assert (record["payload_size"], record["payload_prefix"], record["key"]) == (0, b"", None)


def test_long_detail_is_cut() -> None:
    """Details are bounded, whatever an exception's text was."""
    record = rejected_record(
        Rejection("classify", "classify_failed", "x" * 10_000),
        SOURCE,
        b"",
        None,
        T0,
        prefix_bytes=1,
    )
    assert len(record["detail"]) == 2_000


def test_headers_name_step_reason_and_source() -> None:
    """A DLQ consumer can route on headers without decoding the body."""
    headers = dict(rejection_headers(Rejection("validate", "invalid_event", "d"), SOURCE))
    assert headers == {
        "dua.step_id": b"validate",
        "dua.reason": b"invalid_event",
        "dua.source": b"raw/2/41",
    }
