"""The notifier hands a violation over as soon as it arrives: `consume(n, t)` alone waits out
`t` unless n records come (a critical violation's immediate post up to a poll late)."""

from __future__ import annotations

from typing import Any

from dua_schemas import WireCodec
from dua_stream.notifier.consumer import BATCH, COALESCE_S, POLL_S, ViolationConsumer


class _Kafka:
    """Records how it was asked; `poll` gives the first queued record, `consume` the rest."""

    def __init__(self, queued: list[str]) -> None:
        self.queued = queued
        self.calls: list[tuple[str, float, int]] = []

    def poll(self, timeout: float) -> str | None:
        self.calls.append(("poll", timeout, 1))
        return self.queued.pop(0) if self.queued else None

    def consume(self, num_messages: int, timeout: float) -> list[str]:
        self.calls.append(("consume", timeout, num_messages))
        taken, self.queued = self.queued[:num_messages], self.queued[num_messages:]
        return taken


def _consumer(kafka: _Kafka) -> ViolationConsumer:
    consumer = ViolationConsumer(
        bootstrap="127.0.0.1:1", topic="v", group="g", dispatcher=Any, codec=WireCodec()
    )
    consumer._consumer = kafka
    return consumer


def test_a_record_is_handed_over_with_those_that_came_with_it_without_waiting_more() -> None:
    kafka = _Kafka(["a", "b", "c"])
    assert _consumer(kafka)._fetch(POLL_S) == ["a", "b", "c"]
    # waits the poll only for the first; the rest of its burst a short moment, a batch at most
    assert kafka.calls == [("poll", POLL_S, 1), ("consume", COALESCE_S, BATCH - 1)]
    assert COALESCE_S < POLL_S


def test_nothing_there_is_an_empty_fetch_after_the_wait() -> None:
    kafka = _Kafka([])
    assert _consumer(kafka)._fetch(0.2) == []
    assert kafka.calls == [("poll", 0.2, 1)]
