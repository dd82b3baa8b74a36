"""`dua subject`: every access to one person's data, found by their pseudonym."""

from __future__ import annotations

from datetime import datetime

from dua_compliance.json_compact import QueryResult
from dua_compliance.reader import Reader
from dua_compliance.sql_files import sql_resource


def subject_accesses(reader: Reader, pseudonym: str, since: datetime) -> QueryResult:
    """When, which service, which elements, for what, sent where, and the verdict."""
    return reader.query(
        sql_resource("sql", "subject_accesses.sql"), {"subject": pseudonym, "since": since}
    )
