"""Shared builders for the contract tests."""

from __future__ import annotations

import os
from typing import Any

import pytest

from dua_schemas.avro_reader import NATIVE


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


def use_backend(param: str) -> bool:
    """For fixtures parametrized over `native` and `python`: True for the native build.

    Skips the native case when the build is not installed; under CI, where `make setup`
    builds it, fails instead, so those tests are never skipped there in silence.
    """
    if param == "native" and NATIVE is None:
        if os.environ.get("CI"):
            pytest.fail("dua_schemas_native is not installed; `make setup` builds it")
        pytest.skip("dua_schemas_native is not installed (`make setup` builds it with cargo)")
    return param == "native"
