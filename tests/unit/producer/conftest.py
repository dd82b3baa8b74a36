"""Builders for the SDK's unit tests: clients on the in-memory transport, no broker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dua_producer import AuditClient, MemoryTransport

SUBJECT_KEY = "unit-test-subject-key-0123456789"


@pytest.fixture
def transport() -> MemoryTransport:
    """An in-memory transport, reachable unless a test says otherwise."""
    return MemoryTransport()


@pytest.fixture
def client_factory(
    tmp_path: Path, transport: MemoryTransport
) -> Iterator[Callable[..., AuditClient]]:
    """`make(**settings)`: a client on `transport` spooling under the test's directory."""
    made: list[AuditClient] = []

    def make(**settings: Any) -> AuditClient:
        settings.setdefault("subject_key", SUBJECT_KEY)
        settings.setdefault("service", "jalan")
        settings.setdefault("spool_dir", tmp_path / "spool")
        settings.setdefault("transport", transport)
        settings.setdefault("metrics", False)
        client = AuditClient(**settings)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close(timeout=1)


@pytest.fixture
def client(client_factory: Callable[..., AuditClient]) -> AuditClient:
    """A client for the `jalan` service on the in-memory transport."""
    return client_factory()


@pytest.fixture
def subject_key() -> str:
    """The HMAC key the test clients pseudonymize with."""
    return SUBJECT_KEY


@pytest.fixture
def sent(client: AuditClient, transport: MemoryTransport) -> Callable[[], list[dict[str, Any]]]:
    """`sent()`: every record the transport delivered so far, decoded with the client's codec."""
    return lambda: [client.codec.decode(m.value).record for m in transport.messages]


@pytest.fixture
def wait_for() -> Callable[..., None]:
    """`wait_for(condition, timeout=10)`: poll until true; fail the test with a message if not."""

    def wait(condition: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {what or condition}")
            time.sleep(0.01)

    return wait
