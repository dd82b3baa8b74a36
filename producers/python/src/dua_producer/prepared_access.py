"""`PreparedAccess`: a call site validated and pre-encoded once, emitted many times."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from dua_producer.access_shape import AccessShape

if TYPE_CHECKING:
    from dua_producer.client import AuditClient


class PreparedAccess:
    """A call site's validated fixed fields; `emit` adds the subject and per-call fields."""

    __slots__ = ("_client", "_shape")

    def __init__(self, client: AuditClient, shape: AccessShape) -> None:
        self._client = client
        self._shape = shape

    @property
    def client(self) -> AuditClient:
        return self._client

    def emit(
        self,
        subject: object = None,
        *,
        record_count: int = 1,
        trace_id: str | None = None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> str:
        """Report one access of this shape; return its event id."""
        return self._client._emit_shape(
            self._shape,
            subject,
            record_count=record_count,
            trace_id=trace_id,
            event_id=event_id,
            occurred_at=occurred_at,
        )
