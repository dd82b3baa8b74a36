"""Delivery without loss: spooling when the transport fails or is full, replay when it is back."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dua_producer import AuditClient, ClientClosed, MemoryTransport, Metric
from dua_producer.metric_names import COUNTERS, GAUGES


def event_ids(transport: MemoryTransport, client: AuditClient) -> list[str]:
    return [client.codec.decode(m.value).record["event_id"] for m in transport.messages]


def test_failed_deliveries_are_spooled_then_replayed_in_order_once(
    client: AuditClient, transport: MemoryTransport, wait_for: Callable[..., None]
) -> None:
    """Events emitted while the destination is away all arrive, once each, in emit order."""
    before = [client.emit(["user.name"], subject=f"u-{i}") for i in range(3)]
    transport.available = False
    during = [client.emit(["user.name"], subject=f"u-{i}") for i in range(20)]
    wait_for(lambda: client.stats().spool_pending == 20, what="the spool to hold the 20 events")
    assert client.stats().dropped == 0
    transport.available = True
    wait_for(lambda: client.stats().spool_pending == 0, what="the replay")
    after = [client.emit(["user.name"], subject="u-x")]
    # Live again, or spooled behind the rest if the replay thread had not switched back yet.
    wait_for(lambda: client.stats().delivered == 24, what="the last event")
    assert event_ids(transport, client) == before + during + after
    stats = client.stats()
    assert (stats.emitted, stats.delivered, stats.failed) == (24, 24, 20)
    assert stats.replayed == stats.spooled >= 20  # 21 if the last one went the spool's way


def test_emits_while_spooling_go_behind_the_spooled_ones(
    client: AuditClient, transport: MemoryTransport, wait_for: Callable[..., None]
) -> None:
    """Once spooling, new events queue up in the spool, so replay keeps emit order."""
    transport.available = False
    first = client.emit(["user.name"], subject="a")
    wait_for(lambda: client.stats().spooled == 1, what="the first event to be spooled")
    second = client.emit(["user.name"], subject="b")
    assert client.stats().spooled == 2  # straight to the spool, no transport round trip
    transport.available = True
    wait_for(lambda: len(transport.messages) == 2, what="the replay")
    assert event_ids(transport, client) == [first, second]


def test_a_full_transport_spools_within_the_bound_instead_of_blocking(
    client_factory: Callable[..., AuditClient], wait_for: Callable[..., None]
) -> None:
    """With no room in the producer queue, emit gives up after the bound and spools."""
    transport = MemoryTransport(capacity=0)
    client = client_factory(transport=transport, emit_max_block_s=0.002)
    event_id = client.emit(["user.name"], subject="u-1")
    assert client.stats().spooled == 1
    transport.capacity = None
    wait_for(lambda: len(transport.messages) == 1, what="the replay")
    assert event_ids(transport, client) == [event_id]


def test_full_spool_drops_loudly_without_raising(
    client_factory: Callable[..., AuditClient],
    transport: MemoryTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """When the spool is full too, emit still returns; the drop is counted and logged."""
    client = client_factory(spool_max_bytes=600)
    transport.available = False
    transport.capacity = 0
    with caplog.at_level(logging.ERROR, logger="dua_producer.delivery"):
        for i in range(10):
            client.emit(["user.name"], subject=f"u-{i}")
    stats = client.stats()
    assert stats.dropped > 0
    assert stats.spooled + stats.dropped == 10
    assert "DROPPED" in caplog.text


def test_spooled_events_from_an_earlier_run_are_delivered_at_start(
    client_factory: Callable[..., AuditClient],
    tmp_path: Path,
    wait_for: Callable[..., None],
) -> None:
    """A client finding a non-empty spool replays it before its own new events."""
    down = MemoryTransport()
    down.available = False
    first = client_factory(transport=down, spool_dir=tmp_path / "shared")
    old = [first.emit(["user.name"], subject=i) for i in range(5)]
    first.close(timeout=1)
    assert down.messages == []
    up = MemoryTransport()
    second = client_factory(transport=up, spool_dir=tmp_path / "shared")
    new = second.emit(["user.name"], subject="new")
    wait_for(lambda: len(up.messages) == 6, what="replay of the earlier run's events")
    assert event_ids(up, second) == [*old, new]


def test_close_spools_what_the_transport_could_not_deliver(
    client_factory: Callable[..., AuditClient], tmp_path: Path
) -> None:
    """Events still undelivered at close are in the spool afterwards, not lost."""
    transport = MemoryTransport()
    transport.available = False
    client = client_factory(transport=transport, spool_dir=tmp_path / "s")
    client.emit(["user.name"], subject="u-1")
    client.close(timeout=1)
    assert any(p.stat().st_size > 0 for p in (tmp_path / "s").glob("*.seg"))


def test_flush_settles_everything(client: AuditClient, transport: MemoryTransport) -> None:
    """After flush, every event is delivered or spooled: nothing only in memory."""
    for i in range(10):
        client.emit(["user.name"], subject=i)
    assert client.flush(timeout=1) == 0
    stats = client.stats()
    assert stats.in_flight == 0
    assert stats.delivered == 10


async def test_async_code_emits_and_aflushes(client: AuditClient) -> None:
    """From asyncio, emit does not block and aflush waits without blocking the loop."""
    client.emit(["user.name"], subject="u-async")
    assert await client.aflush(timeout=1) == 0
    assert client.stats().delivered == 1


def test_emit_after_close_is_an_error(client: AuditClient) -> None:
    """Emitting after close is a shutdown-order bug, reported as ClientClosed."""
    client.close()
    with pytest.raises(ClientClosed):
        client.emit(["user.name"])


def test_stats_snapshot_names_match_metric_names(client: AuditClient) -> None:
    """Every counter and gauge in the Metric enum can be read from a snapshot."""
    snapshot = client.stats()
    values: dict[Any, float] = {m: snapshot.value(m) for m in (*COUNTERS, *GAUGES)}
    assert set(values) == set(Metric) - {Metric.DELIVERY_LATENCY}
