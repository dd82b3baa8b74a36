"""What the explorer, the event view, exports and the subject view read from ClickHouse."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from string import Template
from typing import Any

from dua_compliance.appi_records import subject_provisions
from dua_compliance.console.filters import AuditFilter
from dua_compliance.console.issues import console_sql
from dua_compliance.json_compact import QueryResult
from dua_compliance.reader import Reader
from dua_compliance.subject_access import subject_accesses
from dua_schemas import EPOCH

EXPORT_CHUNK = 10_000
# Rows asked for beyond a page, so a page stays full after duplicates are folded.
FOLD_MARGIN = 20
# Later than any event: where an export's keyset paging starts.
_END_OF_TIME = datetime(2100, 1, 1, tzinfo=UTC)


def _with_filter(name: str, audit_filter: AuditFilter) -> tuple[str, dict[str, Any]]:
    condition, parameters = audit_filter.where()
    return Template(console_sql(name)).substitute(filter=condition), parameters


def explorer_page(reader: Reader, audit_filter: AuditFilter) -> tuple[QueryResult, int]:
    """One page of matching events (an event emitted twice shown once) and about how many
    match in all."""
    sql, parameters = _with_filter("explorer_events.sql", audit_filter)
    found = reader.query(
        sql,
        {
            **parameters,
            "limit": audit_filter.size + FOLD_MARGIN,
            "offset": (audit_filter.page - 1) * audit_filter.size,
        },
    )
    position = found.columns.index("event_id")
    seen: set[str] = set()
    rows = []
    for row in found.rows:
        if row[position] not in seen:
            seen.add(row[position])
            rows.append(row)
    page = QueryResult(found.columns, found.types, rows[: audit_filter.size])
    count_sql, _ = _with_filter("explorer_count.sql", audit_filter)
    total = reader.query(count_sql, parameters).rows[0][0]
    return page, int(total)


def export_chunks(reader: Reader, audit_filter: AuditFilter) -> Iterator[QueryResult]:
    """Every matching event, newest first, in chunks read one after the other."""
    sql, parameters = _with_filter("export_events.sql", audit_filter)
    after_time, after_id = _END_OF_TIME, ""
    while True:
        chunk = reader.query(
            sql,
            {**parameters, "after_time": after_time, "after_id": after_id, "limit": EXPORT_CHUNK},
        )
        if not chunk.rows:
            return
        yield chunk
        if len(chunk.rows) < EXPORT_CHUNK:
            return
        last = dict(zip(chunk.columns, chunk.rows[-1], strict=True))
        after_time, after_id = last["occurred_at"], last["event_id"]


def event_detail(reader: Reader, event_id: str) -> tuple[dict[str, Any] | None, QueryResult]:
    """One event with all its fields, and its violations."""
    found = reader.query(console_sql("event.sql"), {"event_id": event_id})
    event = dict(zip(found.columns, found.rows[0], strict=True)) if found.rows else None
    violations = reader.query(console_sql("event_violations.sql"), {"event_id": event_id})
    return event, violations


def subject_events(reader: Reader, pseudonym: str) -> QueryResult:
    """Every access to one subject's data, oldest first, with the policy's verdict: the
    question of `dua subject`, over all time."""
    return subject_accesses(reader, pseudonym, EPOCH)


def subject_access_export(reader: Reader, pseudonym: str) -> QueryResult:
    """The subject-access export: every access (as `subject_events`), and for each access that
    provided the data to a third party its APPI record (recipient, basis, Art. 31
    confirmation; APPI Art. 33(5)); empty cells for the others."""
    accesses = subject_events(reader, pseudonym)
    provisions = {row["event_id"]: row for row in subject_provisions(reader, pseudonym).dicts()}
    added = ("appi_recipient", "appi_recipient_address", "appi_basis", "appi_art31_confirmation")
    event_id = accesses.columns.index("event_id")
    rows = []
    for row in accesses.rows:
        record = provisions.get(row[event_id])
        recipient = ""
        if record is not None:
            recipient = f"{record['recipient_kind']}:{record['recipient_name']}"
        rows.append(
            (
                *row,
                recipient,
                record["recipient_address"] if record else "",
                record["basis"] if record else "",
                record["art31_confirmation"] if record else "",
            )
        )
    return QueryResult(
        (*accesses.columns, *added), (*accesses.types, *("String",) * len(added)), rows
    )


def subject_violations(reader: Reader, pseudonym: str) -> QueryResult:
    """Every active violation about one subject."""
    return reader.query(console_sql("subject_violations.sql"), {"subject": pseudonym})
