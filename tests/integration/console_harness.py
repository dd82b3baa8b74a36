"""A console on a known data set: events and violations written through the sink's own store,
read through the read path, with one user per role in a fresh SQLite database."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from dua.read_path import open_directory
from dua_compliance import AnomalyConfig, DriftWindows, HttpReader, Reader
from dua_compliance.console import (
    Accounts,
    ConsoleConfig,
    Issue,
    RecordsInputs,
    Role,
    build_app,
    open_engine,
)
from dua_policy import load_policy
from dua_producer import pseudonymize
from dua_schemas import WireCodec
from dua_sink import AuditStore, PartitionBuffer, RecordRouter, SinkTopics, migrate
from dua_sink.connection import chdb_directory, is_chdb
from dua_sink.row_mapping import Source
from dua_sink.testing import tagged_event, violation_record, violation_summary

NOW = datetime.now(UTC).replace(microsecond=0)
SUBJECT_KEY = "console-test-subject-key"
RAW_SUBJECT = "member-00042"
PASSWORD = "correct horse battery"
TOPICS = SinkTopics("c.tagged", "c.violations", "c.dlq")
# name -> (role, subject permission)
USERS = {
    "ana": (Role.ANALYST, True),
    "aud": (Role.AUDITOR, False),
    "adm": (Role.ADMIN, True),
    "ana2": (Role.ANALYST, False),
}


def _el(code: str, category: str) -> dict[str, Any]:
    return {"code": code, "category": category, "sensitivity": None}


NAME = _el("user.name", "personal")
SALARY = _el("user.financial.salary", "personal")
BROWSING = _el("user.behavior.browsing_history", "informative")
EMAIL = _el("user.contact.email", "personal")


def _event(
    service: str, purpose: str, elements: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    rules = extra.pop("rules", [])
    return tagged_event(
        service=service,
        purpose=purpose,
        purpose_category=purpose.split(".", maxsplit=1)[0],
        elements=elements,
        occurred_at=extra.pop("occurred_at", NOW - timedelta(hours=2)),
        processed_at=NOW,
        violations=[violation_summary(rule, severity) for rule, severity in rules],
        **extra,
    )


def known_events() -> list[dict[str, Any]]:
    """Payroll misuse (3 events, 2 about the known subject), identification, compliant ones."""
    subject = pseudonymize(RAW_SUBJECT, SUBJECT_KEY)
    misuse = [
        _event(
            "rikunabi",
            "marketing.campaign_notice",
            [SALARY],
            rules=[("payroll_data_misuse", "critical")],
            subject_id=subject if i < 2 else "b" * 64,
            occurred_at=NOW - timedelta(hours=3 + i),
        )
        for i in range(3)
    ]
    identification = [
        _event(
            "jalan",
            "service.identity_verification",
            [NAME, BROWSING],
            rules=[("informative_used_for_identification", "high")],
        )
    ]
    compliant = [
        _event("jalan", "fraud_prevention.investigation", [NAME, BROWSING], subject_id=subject),
        _event("carsensor", "marketing.campaign_notice", [EMAIL]),
    ]
    return misuse + identification + compliant


def write_events(
    client: Any, database: str, events: list[dict[str, Any]], first_offset: int = 0
) -> None:
    """Write events and their violations as the sink would."""
    store = AuditStore(client, database, "console")
    violations = [
        violation_record(e, v["rule"], v["severity"]) for e in events for v in e["violations"]
    ]
    codec = WireCodec()
    router = RecordRouter(TOPICS, codec)
    for topic, name, records in (
        (TOPICS.tagged, "TaggedAccessEvent", events),
        (TOPICS.violations, "Violation", violations),
    ):
        buffer = PartitionBuffer(topic, 0)
        buffer.plan = []
        for offset, record in enumerate(records, start=first_offset):
            payload = codec.encode(name, record)
            buffer.add(
                offset,
                router.route(Source(topic, 0, offset, NOW), payload, None),
                zlib.crc32(payload),
            )
        for segment in buffer.cut(1000, due=True):
            store.write(segment)


def seed(client: Any, database: str) -> list[dict[str, Any]]:
    migrate(client, database, retention_days=3650)
    events = known_events()
    write_events(client, database, events)
    return events


def open_test_reader(dsn: str, database: str) -> Reader:
    if is_chdb(dsn):
        return open_directory(chdb_directory(dsn), database)
    return HttpReader.from_dsn(dsn, database)


@dataclass
class Announced:
    """A recording announcer: the issues announced as regressed."""

    issues: list[Issue]

    def __call__(self, issue: Issue) -> None:
        self.issues.append(issue)


def config_for_tests(announced: Announced) -> ConsoleConfig:
    policy = load_policy()
    return ConsoleConfig(
        pseudonymize=lambda raw: pseudonymize(raw, SUBJECT_KEY),
        rule_texts={r.id: r.description or r.message for r in policy.rules},
        announce=announced,
        records=RecordsInputs(policy, DriftWindows(30, 7), AnomalyConfig(14, 3, 6.0, 20)),
    )


@contextmanager
def console_engine(url: str) -> Iterator[Engine]:
    """A console database with one user per role of `USERS`."""
    engine = open_engine(url)
    accounts = Accounts(engine)
    for name, (role, subject) in USERS.items():
        accounts.add_user(name, PASSWORD, role, subject_access=subject, created_by="test", now=NOW)
    try:
        yield engine
    finally:
        engine.dispose()


@dataclass
class ConsoleUnderTest:
    """The console's app on the known data, its database, and what it announced."""

    app: Starlette
    engine: Engine
    reader: Reader
    announced: Announced
    events: list[dict[str, Any]]


@pytest.fixture
def console_under_test(
    chdb_client: Any, clickhouse_dsn: str, clickhouse_database: str, tmp_path: Path
) -> Iterator[ConsoleUnderTest]:
    """The console on the known data set, with SQLite in a temporary directory."""
    events = seed(chdb_client, clickhouse_database)
    reader = open_test_reader(clickhouse_dsn, clickhouse_database)
    announced = Announced([])
    try:
        with console_engine(f"sqlite:///{tmp_path / 'console.db'}") as engine:
            app = build_app(reader, engine, config_for_tests(announced))
            yield ConsoleUnderTest(app, engine, reader, announced, events)
    finally:
        reader.close()


def signed_in(app: Starlette, name: str) -> tuple[TestClient, str]:
    """A client signed in as `name`, and its CSRF token."""
    client = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
    response = client.post("/login", data={"name": name, "password": PASSWORD})
    assert response.status_code == 303, response.text
    csrf = client.get("/api/session").json()["csrf"]
    return client, csrf
