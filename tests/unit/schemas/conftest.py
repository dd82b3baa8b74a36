"""Shared builders for the contract tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def event_json() -> dict[str, Any]:
    """A valid access event in its JSON form, fresh for each test to mutate."""
    return {
        "event_id": "11111111-2222-4333-8444-555555555555",
        "occurred_at": "2026-11-01T10:00:00+09:00",
        "service": "rikunabi",
        "actor": {"kind": "SERVICE", "id": "verify-api"},
        "subject_id": "p-1",
        "elements": ["user.name", "user.contact.phone"],
        "purpose": "service.identity_verification",
    }
