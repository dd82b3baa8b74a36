"""Rejected inputs: why (a `Rejection`) and the RejectedEvent record sent to the DLQ."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one input was not processed: the step that refused it, a stable code, in words."""

    step_id: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """Where an input came from."""

    topic: str
    partition: int
    offset: int


MAX_DETAIL_CHARS = 2_000


def rejected_record(
    rejection: Rejection,
    source: SourcePosition,
    payload: bytes | None,
    key: bytes | None,
    rejected_at: datetime,
    *,
    prefix_bytes: int,
) -> dict[str, Any]:
    """The RejectedEvent record: reason, detail, origin, size and a bounded payload prefix."""
    body = payload or b""
    return {
        "rejected_at": rejected_at,
        "step_id": rejection.step_id,
        "reason": rejection.reason,
        "detail": rejection.detail[:MAX_DETAIL_CHARS],
        "source_topic": source.topic,
        "source_partition": source.partition,
        "source_offset": source.offset,
        "payload_size": len(body),
        "payload_prefix": bytes(body[:prefix_bytes]),
        "key": key,
    }


def rejection_headers(
    rejection: Rejection, source: SourcePosition
) -> list[tuple[str, str | bytes | None]]:
    """Kafka headers of a DLQ message, so a consumer can route without decoding the body."""
    return [
        ("dua.step_id", rejection.step_id.encode()),
        ("dua.reason", rejection.reason.encode()),
        ("dua.source", f"{source.topic}/{source.partition}/{source.offset}".encode()),
    ]
