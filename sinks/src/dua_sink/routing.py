"""Step `sink.decode`: a Kafka message of one of the sink's topics → the row it becomes.

Bad input is data: a payload that does not decode, or decodes to the wrong record, becomes a
`rejected_events` row with the codec's reason. Nothing a producer sends can stop the sink.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dua_schemas import (
    REJECTED_EVENT,
    TAGGED_ACCESS_EVENT,
    VIOLATION,
    Topics,
    UndecodablePayload,
    WireCodec,
)
from dua_sink.errors import RowRejected
from dua_sink.row_mapping import (
    Row,
    Source,
    access_event_row,
    dlq_row,
    undecodable_row,
    violation_row,
)
from dua_sink.tables import ACCESS_EVENTS, REJECTED_EVENTS, VIOLATIONS, TableName

Mapper = Callable[[dict[str, Any], Source], Row]


@dataclass(frozen=True, slots=True)
class SinkTopics:
    """The three topics the sink reads: the processor's outputs."""

    tagged: str
    violations: str
    dlq: str

    @classmethod
    def of(cls, topics: Topics) -> SinkTopics:
        """The sink's topics among the pipeline's."""
        return cls(topics.tagged, topics.violations, topics.dlq)

    def names(self) -> list[str]:
        return [self.tagged, self.violations, self.dlq]


@dataclass(frozen=True, slots=True)
class Routed:
    """The row a message becomes; `rejected` names the reason when the sink rejected it."""

    table: TableName
    row: Row
    rejected: str | None = None


@dataclass(frozen=True, slots=True)
class _Route:
    record: str
    table: TableName
    mapper: Mapper


class RecordRouter:
    """Decodes messages of the sink's topics and maps them to rows."""

    __slots__ = ("_codec", "_routes")

    def __init__(self, topics: SinkTopics, codec: WireCodec) -> None:
        self._codec = codec
        self._routes = {
            topics.tagged: _Route(TAGGED_ACCESS_EVENT, ACCESS_EVENTS, access_event_row),
            topics.violations: _Route(VIOLATION, VIOLATIONS, violation_row),
            topics.dlq: _Route(REJECTED_EVENT, REJECTED_EVENTS, dlq_row),
        }

    def route(self, source: Source, payload: bytes | None, key: bytes | None) -> Routed:
        """The row for one message (never raises for bad input)."""
        data = payload or b""
        route = self._routes.get(source.topic)
        if route is None:
            return self._reject(
                "unexpected_topic", f"not a sink topic: {source.topic}", data, key, source
            )
        try:
            decoded = self._codec.decode(data, expected=route.record)
            return Routed(route.table, route.mapper(decoded.record, source))
        except (UndecodablePayload, RowRejected) as exc:
            return self._reject(exc.reason, exc.detail, data, key, source)
        except (KeyError, TypeError, ValueError) as exc:
            # A decoded record always has its schema's fields; this is a defect, kept as data.
            return self._reject("unmappable_record", repr(exc), data, key, source)

    @staticmethod
    def _reject(
        reason: str, detail: str, payload: bytes, key: bytes | None, source: Source
    ) -> Routed:
        row = undecodable_row(reason, detail, payload, key, source)
        return Routed(REJECTED_EVENTS, row, reason)
