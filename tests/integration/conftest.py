"""Fixtures shared by the processor's integration tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dua.settings import Settings

from .processor_harness import ProcessorProcess


@pytest.fixture
def unstarted_processor(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> Iterator[tuple[Settings, ProcessorProcess]]:
    """Settings with 2-partition topics, and a processor on them the test starts itself
    (after it has written its input); stopped at the end if it was started."""
    settings = settings_factory(partitions=2)
    worker = ProcessorProcess(settings, tmp_path)
    try:
        yield settings, worker
    finally:
        if worker.process is not None:
            worker.stop()
