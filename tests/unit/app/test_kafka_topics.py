"""`ensure_topics` waits until the broker lists the topics it created (no broker here: the
metadata answers are scripted; tests/integration covers the real broker)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from dua.kafka import topics
from dua.kafka.errors import TopicError


class _Admin:
    """Answers `list_topics` from a script of topic sets, then the last one for ever."""

    def __init__(self, *listings: dict[str, int]) -> None:
        self.listings = list(listings)
        self.calls = 0

    def list_topics(self, timeout: float) -> Any:
        listing = self.listings[min(self.calls, len(self.listings) - 1)]
        self.calls += 1
        return SimpleNamespace(
            topics={
                name: SimpleNamespace(partitions=dict.fromkeys(range(n)))
                for name, n in listing.items()
            }
        )


def test_a_created_topic_is_waited_for_until_the_metadata_lists_it() -> None:
    admin = _Admin({}, {"old": 1}, {"old": 1, "new": 3})
    listed = topics._listed(admin, "broker:9092", ["new"], timeout=5)  # type: ignore[arg-type]
    assert listed == {"old": 1, "new": 3}
    assert admin.calls == 3


def test_a_topic_never_listed_is_an_error_naming_it() -> None:
    admin = _Admin({"old": 1})
    with pytest.raises(TopicError, match="created new but Kafka at broker:9092 does not list it"):
        topics._listed(admin, "broker:9092", ["new"], timeout=0.2)  # type: ignore[arg-type]
