"""Builders for the notifier tests: Violation records and a manual clock."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dua_stream.notifier.testing import ManualClock

_ids = itertools.count(1)


@pytest.fixture
def clock() -> ManualClock:
    """A fresh manual clock at t=1000 s."""
    return ManualClock()


def make_violation(**overrides: Any) -> dict[str, Any]:
    """A Violation record in fastavro's form (critical payroll misuse, active) with overrides."""
    n = next(_ids)
    detected = datetime(2026, 11, 1, 1, 0, tzinfo=UTC) + timedelta(seconds=n)
    record: dict[str, Any] = {
        "violation_id": f"v-{n:06d}",
        "event_id": f"00000000-0000-4000-8000-{n:012d}",
        "occurred_at": detected - timedelta(seconds=1),
        "detected_at": detected,
        "policy_version": "2026.11.0",
        "rule": "payroll_data_misuse",
        "severity": "critical",
        "mode": "active",
        "service": "rikunabi",
        "actor_kind": "EMPLOYEE",
        "actor_id": "emp-secret-7",
        "subject_id": "pseudo-subject-abc",
        "purpose": "marketing.campaign_notice",
        "purpose_category": "marketing",
        "destination_kind": "INTERNAL",
        "elements": ["user.financial.salary"],
        "message": "payroll element used for marketing.campaign_notice",
        "trace_id": None,
    }
    record.update(overrides)
    return record


@pytest.fixture
def violation() -> Callable[..., dict[str, Any]]:
    """`violation(**overrides)`: a new Violation record with a unique id each call."""
    return make_violation
