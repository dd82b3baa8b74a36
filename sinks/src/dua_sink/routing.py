"""Step `sink.decode`: a Kafka message of one of the sink's topics → the row it becomes.

Bad input is data: a payload that does not decode, or decodes to the wrong record, becomes a
`rejected_events` row with the codec's reason. Nothing a producer sends can stop the sink.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from dua_schemas import (
    REJECTED_EVENT,
    TAGGED_ACCESS_EVENT,
    VIOLATION,
    Topics,
    UndecodablePayload,
    WireCodec,
)
from dua_sink.errors import RowRejected
from dua_sink.native_block import NativeBlocks
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


class Pending(NamedTuple):
    """A message whose row is built later, with its segment's: bytes, key, and its Kafka
    timestamp in milliseconds (0: none; made a datetime only if the message is rejected)."""

    payload: bytes | None
    key: bytes | None
    timestamp_ms: int


class RowBlock(NamedTuple):
    """Rows of one table as one ClickHouse Native block, built natively."""

    table: TableName
    data: bytes
    rows: int


@dataclass(frozen=True, slots=True)
class _Route:
    record: str
    table: TableName
    mapper: Mapper


class RecordRouter:
    """Decodes messages of the sink's topics and maps them to rows."""

    __slots__ = ("_codec", "_native", "_routes")

    def __init__(self, topics: SinkTopics, codec: WireCodec, *, native: bool = True) -> None:
        """`native`: build the rows of tagged events and violations natively, a segment at a
        time (`native_block`), when the native build is there; else each in Python."""
        self._codec = codec
        self._routes = {
            topics.tagged: _Route(TAGGED_ACCESS_EVENT, ACCESS_EVENTS, access_event_row),
            topics.violations: _Route(VIOLATION, VIOLATIONS, violation_row),
            topics.dlq: _Route(REJECTED_EVENT, REJECTED_EVENTS, dlq_row),
        }
        builders = NativeBlocks.for_records(codec) if native else {}
        self._native = {
            topic: builders[route.record]
            for topic, route in self._routes.items()
            if route.record in builders
        }

    def defers(self, topic: str) -> bool:
        """Whether this topic's rows are built a segment at a time (`route_pending`)."""
        return topic in self._native

    def route_pending(
        self, topic: str, partition: int, pending: Sequence[tuple[int, Pending]]
    ) -> tuple[RowBlock | None, list[Routed]]:
        """The rows of a segment's messages: a Native block of those the native code maps, and
        Python-routed rows (rejected ones, with their reasons) for those it refuses.

        Should the Python path map a refused message into the same table after all, every
        message is mapped in Python: one insert per table and segment, as before.
        """
        native = self._native[topic]
        offsets = [offset for offset, _ in pending]
        payloads = [item.payload for _, item in pending]
        data, rows, refused = native.block(payloads, partition, offsets)
        routed = [self._route_pending(topic, partition, pending[i]) for i in refused]
        if any(item.table == native.table for item in routed):
            return None, [self._route_pending(topic, partition, item) for item in pending]
        return RowBlock(native.table, data, rows), routed

    def _route_pending(self, topic: str, partition: int, item: tuple[int, Pending]) -> Routed:
        offset, message = item
        millis = message.timestamp_ms
        when = datetime.fromtimestamp(millis / 1000, UTC) if millis > 0 else datetime.now(UTC)
        return self.route(Source(topic, partition, offset, when), message.payload, message.key)

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
