"""Subject pseudonyms: keyed, stable, and the raw id never leaves the process."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dua_producer import AuditClient, MemoryTransport, pseudonymize
from dua_schemas import InvalidEvent

RAW_ID = "member-8842-tanaka@example.jp"


def test_pseudonym_is_stable_for_a_key(subject_key: str) -> None:
    """The same raw id and key always give the same 64-hex-character pseudonym."""
    first = pseudonymize(RAW_ID, subject_key)
    assert first == pseudonymize(RAW_ID, subject_key.encode())
    assert len(first) == 64
    assert int(first, 16) >= 0


def test_pseudonyms_differ_across_keys_and_ids() -> None:
    """Another key, or another id, gives another pseudonym."""
    assert pseudonymize(RAW_ID, "key-one") != pseudonymize(RAW_ID, "key-two")
    assert pseudonymize(RAW_ID, "key-one") != pseudonymize(RAW_ID + "x", "key-one")


def test_events_carry_the_public_pseudonym(
    client: AuditClient, sent: Callable[[], list[dict[str, Any]]], subject_key: str
) -> None:
    """What the SDK puts in the event is what `pseudonymize` computes for a subject request."""
    client.emit(["user.name"], "service.inquiry_response", subject=RAW_ID)
    client.emit_consent(RAW_ID, targeting_opt_out=True)
    access, consent = sent()
    assert access["subject_id"] == pseudonymize(RAW_ID, subject_key)
    assert consent["subject_id"] == pseudonymize(RAW_ID, subject_key)


def test_raw_id_is_absent_from_bytes_keys_and_spool(
    client_factory: Callable[..., AuditClient],
    transport: MemoryTransport,
    tmp_path: Path,
    subject_key: str,
) -> None:
    """Neither the message value, its key, nor the spool files contain the raw id."""
    client = client_factory()
    client.emit(["user.name"], "service.inquiry_response", subject=RAW_ID, trace_id="t-1")
    client.emit_consent(RAW_ID, publication_consent=True)
    transport.available = False
    client.emit(["user.name"], "service.inquiry_response", subject=RAW_ID)
    transport.poll(0)  # the failed delivery goes to the spool
    client.close(timeout=1)
    raw = RAW_ID.encode()
    assert len(transport.messages) == 2
    for message in transport.messages:
        assert raw not in message.value
        assert raw not in message.key
    spooled = b"".join(p.read_bytes() for p in (tmp_path / "spool").glob("*.seg"))
    assert spooled, "the third event should be in the spool"
    assert raw not in spooled
    assert pseudonymize(RAW_ID, subject_key).encode() in spooled


def test_message_key_is_the_pseudonym_or_the_event_id(
    client: AuditClient, transport: MemoryTransport, subject_key: str
) -> None:
    """Keyed by subject pseudonym (per-subject order); subject-less events by their id."""
    client.emit(["user.name"], subject=RAW_ID)
    event_id = client.emit(["user.behavior.usage_history"], "improvement.service_development")
    keyed, unkeyed = transport.messages
    assert keyed.key == pseudonymize(RAW_ID, subject_key).encode()
    assert unkeyed.key == event_id.encode()


def test_integer_and_uuid_subjects_are_their_text(
    client: AuditClient, sent: Callable[[], list[dict[str, Any]]], subject_key: str
) -> None:
    """Integer and UUID ids are pseudonymized as their `str()`, like a text id."""
    subject = uuid.UUID("12345678-1234-4234-8234-123456789abc")
    client.emit(["user.name"], subject=42)
    client.emit(["user.name"], subject=subject)
    first, second = sent()
    assert first["subject_id"] == pseudonymize("42", subject_key)
    assert second["subject_id"] == pseudonymize(str(subject), subject_key)


@pytest.mark.parametrize("subject", [b"bytes-id", 4.5, "", "   "])
def test_bad_subjects_are_refused_without_echoing_them(
    client: AuditClient, transport: MemoryTransport, subject: object
) -> None:
    """A subject of another type, or blank, is an InvalidEvent whose message omits the value."""
    with pytest.raises(InvalidEvent) as caught:
        client.emit(["user.name"], subject=subject)
    assert caught.value.field == "subject"
    assert repr(subject) not in str(caught.value) or subject in ("", "   ")
    assert transport.messages == []
