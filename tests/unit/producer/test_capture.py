"""`testing.capture_events`: services test their own instrumentation without Kafka."""

from __future__ import annotations

from collections.abc import Callable

from dua_producer import AuditClient, MemoryTransport, audited, default_client
from dua_producer.testing import capture_events


@audited(["user.name", "user.contact.email"], "service.inquiry_response", subject="user_id")
def load_inquirer(user_id: str) -> str:
    """A service function as a service would instrument it."""
    return user_id.upper()


def test_capture_events_decodes_what_the_default_client_sent() -> None:
    """Inside the block the default client captures; events come back decoded."""
    with capture_events() as captured:
        load_inquirer("u-1")
        default_client().emit_consent("u-1", targeting_opt_out=True)
    assert len(captured) == 1
    event = captured[0]
    assert event["purpose"] == "service.inquiry_response"
    assert event["elements"] == ["user.name", "user.contact.email"]
    assert event["subject_id"] == captured.pseudonym("u-1")
    assert [c["targeting_opt_out"] for c in captured.consents] == [True]
    assert [m.topic for m in captured.messages] == ["dua.access.raw", "dua.consent"]


def test_capture_events_restores_the_previous_default() -> None:
    """After the block, whatever default client was set before is back."""
    with capture_events(service="outer") as outer:
        outer_client = default_client()
        with capture_events(service="inner") as inner:
            load_inquirer("u-2")
        assert default_client() is outer_client
        load_inquirer("u-3")
    assert [e["service"] for e in inner] == ["inner"]
    assert [e["service"] for e in outer] == ["outer"]


def test_capture_events_can_reroute_an_existing_client(
    client_factory: Callable[..., AuditClient], transport: MemoryTransport
) -> None:
    """A service holding its own client captures its events for the block only."""
    client = client_factory()
    with capture_events(client) as captured:
        client.emit(["user.name"], subject="u-1")
    client.emit(["user.name"], subject="u-2")
    client.flush(timeout=1)
    assert [e["subject_id"] for e in captured] == [captured.pseudonym("u-1")]
    assert len(transport.messages) == 1
