"""Test helpers: a ClickHouse client that fails on purpose, and valid records to feed the sink."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from clickhouse_connect.driver.exceptions import OperationalError

from dua_schemas.testing import access_record
from dua_sink.connection import ClickHouseClient


class FailingClient:
    """Wraps a client; after `fail_after` good inserts, the next `failures` inserts raise.

    The exception is clickhouse-connect's own `OperationalError`, what a refused connection
    raises, so the code under test cannot tell the fault from an outage.
    """

    __slots__ = ("_client", "_fail_after", "_lock", "failures_left", "inserts")

    def __init__(self, client: ClickHouseClient, *, failures: int, fail_after: int = 0) -> None:
        self._client = client
        self._fail_after = fail_after
        self._lock = threading.Lock()
        self.failures_left = failures
        self.inserts = 0

    def insert(
        self,
        table: str,
        data: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        *,
        database: str | None = None,
        column_oriented: bool = False,
        settings: dict[str, Any] | None = None,
    ) -> Any:
        self._count_insert(table)
        return self._client.insert(
            table,
            data,
            column_names=column_names,
            database=database,
            column_oriented=column_oriented,
            settings=settings,
        )

    def raw_insert(
        self,
        table: str,
        column_names: Sequence[str] | None = None,
        insert_block: bytes | None = None,
        settings: dict[str, Any] | None = None,
        fmt: str | None = None,
    ) -> Any:
        """An insert of rows already encoded (`fmt`), counted and failed as `insert` is."""
        self._count_insert(table)
        return self._client.raw_insert(
            table,
            column_names=column_names,
            insert_block=insert_block,
            settings=settings,
            fmt=fmt,
        )

    def _count_insert(self, table: str) -> None:
        with self._lock:
            self.inserts += 1
            failing = self.inserts > self._fail_after and self.failures_left > 0
            if failing:
                self.failures_left -= 1
        if failing:
            raise OperationalError(f"injected failure ({self.failures_left} left) for {table}")

    def command(
        self,
        cmd: str,
        parameters: dict[str, Any] | None = None,
        *,
        settings: dict[str, Any] | None = None,
    ) -> Any:
        return self._client.command(cmd, parameters=parameters, settings=settings)

    def query(
        self,
        query: str,
        parameters: dict[str, Any] | None = None,
        *,
        settings: dict[str, Any] | None = None,
    ) -> Any:
        return self._client.query(query, parameters=parameters, settings=settings)

    def close(self) -> None:
        self._client.close()


def tagged_event(**overrides: Any) -> dict[str, Any]:
    """A valid TaggedAccessEvent record (fastavro's dict form); fields overridable.

    The fields it shares with its DataAccessEvent come from `access_record`, the one
    compliant event of every test suite.
    """
    record = access_record(
        occurred_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
        service="jalan",
        actor={"kind": "SERVICE", "id": "jalan-api"},
        subject_id="0" * 64,
        purpose="service.identity_verification",
        elements=[{"code": "user.name", "category": "personal", "sensitivity": "normal"}],
    )
    record.update(
        processed_at=datetime(2026, 1, 5, 9, 30, 1, tzinfo=UTC),
        policy_version="test-1",
        purpose_category="service",
        purpose_known=True,
        violations=[],
    )
    record.update(overrides)
    return record


def violation_summary(rule: str, severity: str, *, mode: str = "active") -> dict[str, Any]:
    """An entry of a TaggedAccessEvent's `violations` list."""
    return {
        "violation_id": str(uuid.uuid4()),
        "rule": rule,
        "severity": severity,
        "mode": mode,
        "elements": [],
        "message": f"{rule} fired",
    }


def violation_record(
    event: dict[str, Any], rule: str, severity: str, **overrides: Any
) -> dict[str, Any]:
    """A Violation record for `event` (a TaggedAccessEvent record); fields overridable."""
    record: dict[str, Any] = {
        "violation_id": f"{event['event_id']}:{rule}",
        "event_id": event["event_id"],
        "occurred_at": event["occurred_at"],
        "detected_at": event["processed_at"],
        "policy_version": event["policy_version"],
        "rule": rule,
        "severity": severity,
        "mode": "active",
        "service": event["service"],
        "actor_kind": event["actor"]["kind"],
        "actor_id": event["actor"]["id"],
        "subject_id": event["subject_id"],
        "purpose": event["purpose"],
        "purpose_category": event["purpose_category"],
        "destination_kind": event["destination"]["kind"],
        "elements": [e["code"] for e in event["elements"]],
        "message": f"{rule} fired",
        "trace_id": None,
    }
    record.update(overrides)
    return record


def rejected_record(**overrides: Any) -> dict[str, Any]:
    """A RejectedEvent record as the processor sends it to the DLQ."""
    record: dict[str, Any] = {
        "rejected_at": datetime(2026, 1, 5, 9, 31, tzinfo=UTC),
        "step_id": "processor.decode",
        "reason": "corrupt_body",
        "detail": "DataAccessEvent body: not Avro",
        "source_topic": "dua.access.raw",
        "source_partition": 0,
        "source_offset": 42,
        "payload_size": 5,
        "payload_prefix": b"\xc3\x01bad",
        "key": None,
    }
    record.update(overrides)
    return record
