"""The worker's garbage-collector settings: frozen start-up objects, a larger young generation."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from dua_stream.processor.config import Tuning
from dua_stream.processor.worker import tune_garbage_collector


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restore_gc")
def test_tuning_freezes_startup_objects_and_raises_the_young_threshold() -> None:
    gc.unfreeze()
    _, older, oldest = gc.get_threshold()
    kept = [object() for _ in range(10)]
    tune_garbage_collector(Tuning().gc_young_threshold)
    assert gc.get_threshold() == (Tuning().gc_young_threshold, older, oldest)
    assert gc.get_freeze_count() > 0  # what start-up built is out of every collection
    assert kept  # still ours: freezing moves objects, it does not drop them


@pytest.mark.usefixtures("restore_gc")
def test_zero_leaves_the_collector_as_it_is() -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    tune_garbage_collector(0)
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
