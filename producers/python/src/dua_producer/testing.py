"""Test helpers for services: check your audit instrumentation without Kafka.

    from dua_producer.testing import capture_events

    def test_inquiry_is_audited():
        with capture_events() as captured:
            load_inquirer(user_id="u-1")       # decorated with @audited(...)
        assert captured[0]["purpose"] == "service.inquiry_response"
        assert captured[0]["subject_id"] == captured.pseudonym("u-1")

`capture_events()` installs a client with an in-memory transport as the default client for
the block; `capture_events(client)` reroutes an existing client instead.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, overload

from dua_producer.client import AuditClient
from dua_producer.config import ProducerConfig
from dua_producer.default_client import set_default_client
from dua_producer.memory_transport import MemoryTransport, SentMessage
from dua_producer.pseudonym import pseudonymize
from dua_schemas import CONSENT_CHANGE, DATA_ACCESS_EVENT, WireCodec

TEST_SUBJECT_KEY: Final = "dua-testing-subject-key"
TEST_SERVICE: Final = "service-under-test"


class CapturedEvents(Sequence[dict[str, Any]]):
    """The access events sent while capturing, decoded; `consents` holds consent changes."""

    def __init__(
        self, transport: MemoryTransport, config: ProducerConfig, codec: WireCodec
    ) -> None:
        self._transport = transport
        self._config = config
        self._codec = codec

    @property
    def messages(self) -> list[SentMessage]:
        """Every message as sent: topic, key and encoded value."""
        return list(self._transport.messages)

    @property
    def events(self) -> list[dict[str, Any]]:
        """Decoded DataAccessEvents, in the order they were emitted."""
        return self._decoded(self._config.topic_raw, DATA_ACCESS_EVENT)

    @property
    def consents(self) -> list[dict[str, Any]]:
        """Decoded ConsentChanges, in the order they were emitted."""
        return self._decoded(self._config.topic_consent, CONSENT_CHANGE)

    def pseudonym(self, raw_id: str) -> str:
        """The pseudonym the captured events carry for `raw_id`."""
        return pseudonymize(raw_id, self._config.subject_key)

    def _decoded(self, topic: str, name: str) -> list[dict[str, Any]]:
        return [
            self._codec.decode(m.value, expected=name).record
            for m in self._transport.messages
            if m.topic == topic
        ]

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        return self.events[index]

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.events)


@contextmanager
def capture_events(client: AuditClient | None = None, **settings: Any) -> Iterator[CapturedEvents]:
    """Capture every event emitted in the block, decoded (see the module docstring).

    Without `client`, a capturing client (built from `settings`, with a test subject key and
    service unless given) is the default client for the block. With `client`, that client's
    events go to memory instead of Kafka for the block.
    """
    spool_dir = Path(tempfile.mkdtemp(prefix="dua-capture-"))
    transport = MemoryTransport()
    try:
        if client is None:
            settings.setdefault("subject_key", TEST_SUBJECT_KEY)
            settings.setdefault("service", TEST_SERVICE)
            settings.setdefault("spool_dir", spool_dir)
            capturing = AuditClient(transport=transport, metrics=False, **settings)
            previous = set_default_client(capturing)
            try:
                yield CapturedEvents(transport, capturing.config, capturing.codec)
            finally:
                set_default_client(previous)
                capturing.close()
        else:
            restore = client._reroute(transport, spool_dir)
            try:
                yield CapturedEvents(transport, client.config, client.codec)
            finally:
                restore()
    finally:
        shutil.rmtree(spool_dir, ignore_errors=True)
