"""Stored access events rebuilt as DataAccessEvent records, with the findings stored for them.

This is what a policy backtest replays: the events as services reported them (element codes,
purpose, destination, consent flags on the event), oldest first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dua_compliance.reader import Reader
from dua_compliance.sql_files import sql_resource
from dua_schemas import DataAccessEvent

PAGE_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An access event as stored, and the rules (any mode) that fired on it then."""

    event: DataAccessEvent
    stored_rules: frozenset[str]
    policy_version: str


def stored_events(
    reader: Reader, since: datetime, *, page_rows: int = PAGE_ROWS
) -> Iterator[StoredEvent]:
    """Every stored event since `since`, oldest first, read a page at a time."""
    sql = sql_resource("sql", "stored_events.sql")
    after_time, after_id = since - timedelta(milliseconds=1), ""
    while True:
        parameters = {
            "since": since,
            "after_time": after_time,
            "after_id": after_id,
            "limit": page_rows,
        }
        page = list(reader.query(sql, parameters).dicts())
        for row in page:
            yield StoredEvent(
                _event(row), frozenset(row["violation_rules"]), str(row["policy_version"])
            )
        if len(page) < page_rows:
            return
        after_time, after_id = page[-1]["occurred_at"], page[-1]["event_id"]


def _event(row: dict[str, Any]) -> DataAccessEvent:
    return {
        "event_id": row["event_id"],
        "occurred_at": row["occurred_at"],
        "service": row["service"],
        "actor": {"kind": row["actor_kind"], "id": row["actor_id"]},
        "subject_id": row["subject_id"] or None,
        "elements": list(row["elements"]),
        "purpose": row["purpose"] or None,
        "operation": row["operation"],
        "processing": row["processing"],
        "destination": {"kind": row["destination_kind"], "name": row["destination_name"] or None},
        "origin_service": row["origin_service"] or None,
        "consent": {
            "targeting_opt_out": bool(row["targeting_opt_out"]),
            "publication_consent": bool(row["publication_consent"]),
            "payroll_other_use_consent": bool(row["payroll_other_use_consent"]),
        },
        "record_count": int(row["record_count"]),
        "trace_id": row["trace_id"] or None,
        "attributes": dict(row["attributes"]),
    }
