"""`dua subject`: every access to one person's data, found by their pseudonym."""

from __future__ import annotations

from datetime import datetime

from dua_sink.json_compact import QueryResult
from dua_sink.reader import Reader
from dua_sink.sql_text import sql_resource


def subject_accesses(reader: Reader, pseudonym: str, since: datetime) -> QueryResult:
    """When, which service, which elements, for what, sent where, and the verdict."""
    return reader.query(
        sql_resource("sql", "subject_accesses.sql"), {"subject": pseudonym, "since": since}
    )
