"""APPI third-party provision records (Art. 29) and confirmation records (Art. 31), read
from `appi_provisions`: a window of any size page by page, and one person's records.

A record says what APPI's Rules (Art. 20, Art. 28) ask for: the date of the provision, the
recipient (name, address, representative), the person (their pseudonym), the items provided
(element codes) and that the person consented (`basis` consent) or the date of an opt-out
provision (`basis` opt_out: the provision's own date); for informative data given to a
recipient that can link it to the person, whether the person's consent was confirmed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Final

from dua_compliance.json_compact import QueryResult
from dua_compliance.reader import Reader
from dua_compliance.sql_files import sql_resource
from dua_schemas import EPOCH

PAGE_ROWS: Final = 10_000  # rows per query: memory stays bounded whatever the window
RECORD_FIELDS: Final = (
    "provided_at",
    "event_id",
    "service",
    "purpose",
    "subject_pseudonym",
    "items",
    "recipient_kind",
    "recipient_name",
    "recipient_registered",
    "recipient_address",
    "recipient_representative",
    "basis",
    "consented",
    "opt_out_provision_date",
    "art31_confirmation",
    "policy_version",
)


def appi_records(
    reader: Reader, since: datetime, until: datetime, page: int = PAGE_ROWS
) -> Iterator[dict[str, Any]]:
    """The records provided in [since, until), oldest first, one page of queries at a time."""
    sql = sql_resource("sql", "appi_records.sql")
    after: tuple[datetime, str] = (EPOCH, "")
    while True:
        result = reader.query(
            sql,
            {
                "since": since,
                "until": until,
                "after_at": after[0],
                "after_id": after[1],
                "page": page,
            },
        )
        for row in result.dicts():
            yield _record(row)
        if len(result.rows) < page:
            return
        last = result.rows[-1]
        after = (last[0], last[1])


def subject_provisions(reader: Reader, pseudonym: str) -> QueryResult:
    """The provision records of one person (APPI Art. 33(5) disclosure)."""
    return reader.query(sql_resource("sql", "appi_subject_records.sql"), {"subject": pseudonym})


def _record(row: dict[str, Any]) -> dict[str, Any]:
    provided: datetime = row["occurred_at"]
    opt_out = row["basis"] == "opt_out"
    confirmation = ""
    if row["linkable"]:
        confirmation = "confirmed" if row["link_consent"] else "not confirmed"
    return {
        "provided_at": provided.isoformat(),
        "event_id": row["event_id"],
        "service": row["service"],
        "purpose": row["purpose"],
        "subject_pseudonym": row["subject_id"],
        "items": list(row["elements"]),
        "recipient_kind": row["recipient_kind"],
        "recipient_name": row["recipient_name"],
        "recipient_registered": bool(row["recipient_registered"]),
        "recipient_address": row["recipient_address"],
        "recipient_representative": row["recipient_representative"],
        "basis": row["basis"],
        "consented": not opt_out,
        "opt_out_provision_date": provided.date().isoformat() if opt_out else "",
        "art31_confirmation": confirmation,
        "policy_version": row["policy_version"],
    }


def appi_csv(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The records as CSV text, a header line then one chunk per record (items `;`-joined)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, RECORD_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({**record, "items": ";".join(record["items"])})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def appi_json(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The records as one JSON array, written record by record."""
    yield "["
    first = True
    for record in records:
        yield ("\n  " if first else ",\n  ") + json.dumps(record, ensure_ascii=False)
        first = False
    yield "\n]\n" if not first else "]\n"
