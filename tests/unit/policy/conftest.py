"""Fixtures of the policy-engine tests: the default engine and an event builder."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest
import yaml

from dua_policy import Engine, MemoryState, Policy, Verdict, load_policy, parse_policy
from dua_schemas import ConsentChange, DataAccessEvent, consent_from_json, event_from_json

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)

EventFactory = Callable[..., DataAccessEvent]


def build_event(**overrides: Any) -> DataAccessEvent:
    """A valid access event (JSON form defaults, then `overrides`), as a record.

    `at` is minutes after T0; `elements`, `purpose`, `destination` etc. are contract fields.
    """
    minutes = overrides.pop("at", 0)
    fields: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": (T0 + timedelta(minutes=minutes)).isoformat(),
        "service": "hotpepper-beauty",
        "actor": {"kind": "EMPLOYEE", "id": "emp-1"},
        "subject_id": "subject-1",
        "elements": ["user.account.id"],
        "purpose": "service.points_program",
    }
    if isinstance(overrides.get("destination"), str):
        overrides["destination"] = {"kind": overrides["destination"], "name": "somewhere"}
    fields.update(overrides)
    return event_from_json(fields)


def build_consent(minutes: float, subject: str = "subject-1", **flags: bool) -> ConsentChange:
    """A consent change of `subject`, `minutes` after T0, setting `flags`."""
    at = (T0 + timedelta(minutes=minutes)).isoformat()
    return consent_from_json({"subject_id": subject, "occurred_at": at, **flags})


@pytest.fixture
def make_consent() -> Callable[..., ConsentChange]:
    """`make_consent(minutes, subject=..., **flags)`: see `build_consent`."""
    return build_consent


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The shipped default policy."""
    return load_policy()


@pytest.fixture(scope="session")
def engine(policy: Policy) -> Engine:
    """An engine on the default policy (stateless use: pass a fresh state each time)."""
    return Engine(policy)


@pytest.fixture
def make_event() -> EventFactory:
    """`make_event(**overrides)`: see `build_event`."""
    return build_event


@pytest.fixture
def judge(engine: Engine) -> Callable[..., Verdict]:
    """`judge(**overrides)`: the default engine's verdict on one event, with no prior state."""

    def run(**overrides: Any) -> Verdict:
        return engine.classify(build_event(**overrides), MemoryState())

    return run


@pytest.fixture(scope="session")
def default_text() -> str:
    """The shipped default policy file's text."""
    return resources.files("dua_policy").joinpath("default_policy.yaml").read_text("utf-8")


@pytest.fixture
def default_document(default_text: str) -> dict[str, Any]:
    """The default policy as a fresh YAML document, for a test to change."""
    document: dict[str, Any] = yaml.safe_load(default_text)
    return document


@pytest.fixture
def policy_from() -> Callable[[dict[str, Any]], Policy]:
    """`policy_from(document)`: parse a policy document given as data."""

    def parse(document: dict[str, Any]) -> Policy:
        return parse_policy(yaml.safe_dump(document, allow_unicode=True), "policy.yaml")

    return parse
