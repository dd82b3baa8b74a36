"""`@audited` and `client.access(...)`: one access per call, subject from the named argument."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from dua_producer import AuditClient, audited, pseudonymize, set_default_client
from dua_schemas import ConfigError, InvalidEvent


def test_decorator_records_each_call_with_the_subject_argument(
    client: AuditClient, sent: Callable[[], list[dict[str, Any]]], subject_key: str
) -> None:
    """Positional, keyword and default subject arguments are all found."""

    @client.audited(
        ["user.name", "user.contact.email"], "service.inquiry_response", subject="user_id"
    )
    def load(tenant: str, user_id: str = "anonymous-default", *, verbose: bool = False) -> str:
        return f"{tenant}/{user_id}/{verbose}"

    assert load("t", "u-1") == "t/u-1/False"
    assert load("t", user_id="u-2", verbose=True) == "t/u-2/True"
    load("t")
    events = sent()
    assert [e["subject_id"] for e in events] == [
        pseudonymize(raw, subject_key) for raw in ("u-1", "u-2", "anonymous-default")
    ]
    assert {e["purpose"] for e in events} == {"service.inquiry_response"}
    assert events[0]["elements"] == ["user.name", "user.contact.email"]
    assert load.__name__ == "load"


def test_decorator_works_on_async_functions(
    client: AuditClient, sent: Callable[[], list[dict[str, Any]]]
) -> None:
    """An `async def` stays a coroutine function and is recorded when called."""

    @client.audited(["user.behavior.browsing_history"], "research.profiling", subject="uid")
    async def recommend(uid: int) -> list[str]:
        await asyncio.sleep(0)
        return ["spa"]

    assert asyncio.iscoroutinefunction(recommend)
    assert asyncio.run(recommend(7)) == ["spa"]
    (event,) = sent()
    assert event["purpose"] == "research.profiling"


def test_decorator_records_even_when_the_function_fails(
    client: AuditClient, sent: Callable[[], list[dict[str, Any]]]
) -> None:
    """The access is recorded before the function runs, so a failure does not hide it."""

    @client.audited(["user.name"], "service.identity_verification", subject="user_id")
    def verify(user_id: str) -> None:
        raise RuntimeError("downstream timeout")

    with pytest.raises(RuntimeError, match="downstream timeout"):
        verify("u-9")
    assert len(sent()) == 1


def test_decorator_fields_are_checked_at_decoration_time() -> None:
    """A bad purpose type or an empty element list fails when the module is imported."""
    with pytest.raises(InvalidEvent, match="elements"):
        audited([], "service.inquiry_response")
    with pytest.raises(InvalidEvent, match="processing"):
        audited(["user.name"], processing="SHREDDED")
    with pytest.raises(TypeError, match="no parameter 'user'"):

        @audited(["user.name"], subject="user")
        def lookup(user_id: str) -> None: ...


def test_module_level_decorator_uses_the_default_client(
    client: AuditClient, sent: Callable[[], list[dict[str, Any]]]
) -> None:
    """Without client=, the decorator uses the default client found at call time."""

    @audited(["user.contact.address"], "service.prize_fulfillment", subject="winner")
    def ship(winner: str) -> None: ...

    previous = set_default_client(None)
    try:
        with pytest.raises(ConfigError, match="set_default_client"):
            ship("u-1")
        set_default_client(client)
        ship("u-1")
    finally:
        set_default_client(previous)
    assert [e["purpose"] for e in sent()] == ["service.prize_fulfillment"]


def test_context_manager_records_what_the_block_filled_in(
    client: AuditClient, sent: Callable[[], list[dict[str, Any]]], subject_key: str
) -> None:
    """The block sets the subject, count and attributes; the access is recorded at its end."""
    with client.access(
        ["user.behavior.usage_history"],
        "improvement.service_development",
        processing="PSEUDONYMIZED",
    ) as access:
        access.subject = "u-5"
        access.record_count = 120
        access.attributes["report"] = "weekly"
        assert sent() == []
    (event,) = sent()
    assert event["subject_id"] == pseudonymize("u-5", subject_key)
    assert (event["record_count"], event["processing"]) == (120, "PSEUDONYMIZED")
    assert event["attributes"] == {"report": "weekly"}


def test_context_manager_records_when_the_block_raises(
    client: AuditClient, sent: Callable[[], list[dict[str, Any]]]
) -> None:
    """Data may have been read before a failure: the access is still recorded."""
    with pytest.raises(KeyError), client.access(["user.name"], subject="u-1"):
        raise KeyError("missing row")
    assert len(sent()) == 1


def test_context_manager_validates_before_the_block(client: AuditClient) -> None:
    """Invalid fixed fields fail on entry, before the block reads anything."""
    entered = False
    with pytest.raises(InvalidEvent, match=r"destination\.kind"):  # noqa: SIM117 - the point
        with client.access(["user.name"], destination="NOWHERE"):
            entered = True
    assert not entered
