"""Bytes from the raw and consent topics to validated records, or a `Rejection` saying why not.

Bad input is data here, never an exception that escapes (an exception leaving a Faust agent
stops consumption silently: faust #175, #523).
"""

from __future__ import annotations

from typing import cast

from dua_schemas import (
    CONSENT_CHANGE,
    DATA_ACCESS_EVENT,
    ConsentChange,
    DataAccessEvent,
    InvalidEvent,
    UndecodablePayload,
    validate_consent,
    validate_event,
)
from dua_stream.processor.codec import RecordCodec
from dua_stream.processor.reject import Rejection
from dua_stream.processor.steps import CONSENT, DECODE, INVALID_EVENT, VALIDATE


def decode_access(codec: RecordCodec, payload: bytes | None) -> DataAccessEvent | Rejection:
    """A validated DataAccessEvent from either wire framing, or why the payload is rejected."""
    try:
        decoded = codec.decode(payload or b"", DATA_ACCESS_EVENT)
    except UndecodablePayload as exc:
        return Rejection(DECODE, exc.reason, exc.detail)
    record = decoded.record
    try:
        validate_event(record)
    except InvalidEvent as exc:
        return Rejection(VALIDATE, INVALID_EVENT, str(exc))
    return cast(DataAccessEvent, record)


def decode_consent(codec: RecordCodec, payload: bytes | None) -> ConsentChange | Rejection:
    """A validated ConsentChange, or why the payload is rejected."""
    try:
        decoded = codec.decode(payload or b"", CONSENT_CHANGE)
    except UndecodablePayload as exc:
        return Rejection(CONSENT, exc.reason, exc.detail)
    record = decoded.record
    try:
        validate_consent(record)
    except InvalidEvent as exc:
        return Rejection(CONSENT, INVALID_EVENT, str(exc))
    return cast(ConsentChange, record)
