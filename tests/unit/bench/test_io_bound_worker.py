"""The I/O-bound worker's batches: copies of the input, as many outputs per input as asked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import pytest
from bench.io_bound_worker import copy_through


class _Message(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@pytest.mark.parametrize(("per_event", "expected"), [(1.0, 100), (1.86, 186), (2.5, 250)])
def test_every_input_is_copied_to_tagged_and_the_rest_spread_over_violations(
    per_event: float, expected: int
) -> None:
    raw = [_Message("raw", i % 4, i, f"k{i}".encode(), f"v{i}".encode()) for i in range(100)]
    process = copy_through("tagged", "violations", per_event)
    result = process(None, [], raw, datetime.now(UTC))  # type: ignore[arg-type]  # self: unused

    outputs = result.outputs
    assert len(outputs) == expected
    tagged = [o for o in outputs if o.topic == "tagged"]
    assert [(o.key, o.value) for o in tagged] == [(m.key, m.value) for m in raw]
    assert {o.topic for o in outputs} <= {"tagged", "violations"}
    assert all(o.headers for o in outputs)  # the producer pays for headers as it does for real
    # the extra copies follow their input, so no input is left without its outputs
    assert outputs[0].topic == "tagged"
