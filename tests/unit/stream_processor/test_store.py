"""`OffsetMemoryStore`: the changelog offsets a worker's tables reflect, never more."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.types import TP

from dua_stream.processor import ProcessorConfig, changelog_topics
from dua_stream.processor.app import build_app
from dua_stream.processor.store import STORE_URL, OffsetMemoryStore

from .conftest import TOPICS

CHANGELOG = "unit-reid-changelog"


@pytest.fixture
def store() -> OffsetMemoryStore:
    app = faust.App("unit", store=STORE_URL, autodiscover=False)
    table = app.Table("reid", partitions=4, default=None)
    assert table.changelog_topic.get_topic_name() == CHANGELOG
    data = table.data
    assert isinstance(data, OffsetMemoryStore)
    return data


def _record(partition: int, offset: int, key: bytes, value: bytes | None) -> Any:
    """A changelog event as Faust's recovery hands it to `apply_changelog_batch`."""
    tp = TP(CHANGELOG, partition)
    return SimpleNamespace(
        key=key,
        value=value,
        message=SimpleNamespace(tp=tp, partition=partition, offset=offset, value=value),
    )


def _apply(store: OffsetMemoryStore, *records: Any) -> None:
    store.apply_changelog_batch(records, to_key=lambda k: k, to_value=lambda v: v)


def test_a_new_store_reads_every_partition_from_the_start(store: OffsetMemoryStore) -> None:
    assert [store.persisted_offset(TP(CHANGELOG, p)) for p in range(4)] == [None] * 4


def test_recovery_records_the_newest_offset_applied_per_partition(
    store: OffsetMemoryStore,
) -> None:
    _apply(store, _record(0, 5, b"a", b"1"), _record(1, 7, b"b", b"2"), _record(0, 9, b"c", b"3"))
    assert store.persisted_offset(TP(CHANGELOG, 0)) == 9
    assert store.persisted_offset(TP(CHANGELOG, 1)) == 7
    assert store.persisted_offset(TP(CHANGELOG, 2)) is None
    assert dict(store.data) == {b"a": b"1", b"b": b"2", b"c": b"3"}  # and the data is applied


def test_an_offset_never_goes_back(store: OffsetMemoryStore) -> None:
    """Batches are confirmed in any order; an older confirmation must not undo a newer one."""
    tp = TP(CHANGELOG, 2)
    store.set_persisted_offset(tp, 40)
    store.set_persisted_offset(tp, 12)
    assert store.persisted_offset(tp) == 40


def test_a_rebalance_drops_the_offsets_of_partitions_no_longer_assigned(
    store: OffsetMemoryStore,
) -> None:
    """A partition given away may come back with other workers' records in between (and its
    entries forgotten): it must then be read from the start, not from our old offset."""
    for partition in range(4):
        store.set_persisted_offset(TP(CHANGELOG, partition), 100 + partition)
    assigned = {TP("raw", 1), TP("raw", 3), TP(CHANGELOG, 1), TP(CHANGELOG, 3)}
    asyncio.run(store.on_rebalance(assigned, set(), set()))
    offsets = [store.persisted_offset(TP(CHANGELOG, p)) for p in range(4)]
    assert offsets == [None, 101, None, 103]


def _config(state_dir: Path) -> ProcessorConfig:
    return ProcessorConfig(
        bootstrap="127.0.0.1:9",
        app_id="unit-app",
        topics=TOPICS,
        partitions=4,
        state_dir=state_dir,
    )


def test_the_processor_s_tables_use_it(tmp_path: Path) -> None:
    _, tables = build_app(_config(tmp_path))
    assert all(isinstance(table.data, OffsetMemoryStore) for table in tables.values())


def test_entries_are_the_store_itself(store: OffsetMemoryStore) -> None:
    """`TableState` works on `entries`: what it writes is the table's, what recovery applies
    is there for it to read."""
    store.entries["reid:a"] = {"p": 0}
    assert store["reid:a"] == {"p": 0}
    _apply(store, _record(1, 3, "reid:b", {"p": 1}))
    assert store.entries["reid:b"] == {"p": 1}
    store.entries.pop("reid:a")
    assert "reid:a" not in store


def test_changelog_topics_are_named_as_faust_names_them(tmp_path: Path) -> None:
    """`changelog_topics` (checked before Faust is loaded) names the topics Faust writes."""
    _, tables = build_app(_config(tmp_path))
    assert {name: t.changelog_topic.get_topic_name() for name, t in tables.items()} == (
        changelog_topics("unit-app")
    )
