"""Where each result goes: the Kafka messages (topic, key, value, headers) of one input."""

from __future__ import annotations

from datetime import datetime
from typing import Final, NamedTuple

from dua_policy import Verdict
from dua_schemas import REJECTED_EVENT, VIOLATION
from dua_stream.processor.codec import RecordCodec
from dua_stream.processor.config import ProcessorTopics
from dua_stream.processor.reject import (
    Rejection,
    SourcePosition,
    rejected_record,
    rejection_headers,
)
from dua_stream.processor.state import StateChange

POLICY_VERSION_HEADER: Final = "dua.policy_version"

Headers = list[tuple[str, str | bytes | None]]
# Outputs of the hot path are made with `tuple.__new__(Output, ...)`: the NamedTuple's own
# `__new__` is a Python function, a frame per output (~2 per event; ~2% of the work bound).
_new = tuple.__new__


class Output(NamedTuple):
    """One message to produce; `partition` None lets the producer's partitioner choose."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers | None = None
    partition: int | None = None


def verdict_outputs(
    verdict: Verdict,
    key: bytes | None,
    codec: RecordCodec,
    topics: ProcessorTopics,
    processed_at: datetime,
    *,
    source: bytes | None = None,
) -> list[Output]:
    """The TaggedAccessEvent, then one Violation per finding, keyed like the input.

    `source`: the input payload the verdict's event was decoded from, if at hand (the tagged
    event's shared fields are then copied from it).
    """
    headers = version_headers(verdict.policy_version)
    outputs = [
        _new(
            Output,
            (topics.tagged, key, codec.encode_tagged(verdict, processed_at, source), headers, None),
        )
    ]
    if verdict.violations:
        outputs.extend(
            _new(Output, (topics.violations, key, codec.encode(VIOLATION, record), headers, None))
            for record in verdict.violation_records(processed_at)
        )
    return outputs


def version_headers(version: str) -> Headers:
    """The outputs' headers for a policy version, made once per version (a batch's outputs
    share one list: the producer only reads it)."""
    headers = _HEADERS.get(version)
    if headers is None:
        if len(_HEADERS) > 64:  # reloads over a long life: keep only recent versions
            _HEADERS.clear()
        headers = _HEADERS[version] = [(POLICY_VERSION_HEADER, version.encode())]
    return headers


_HEADERS: dict[str, Headers] = {}


def rejection_output(
    rejection: Rejection,
    source: SourcePosition,
    payload: bytes | None,
    key: bytes | None,
    *,
    codec: RecordCodec,
    topics: ProcessorTopics,
    rejected_at: datetime,
    prefix_bytes: int,
) -> Output:
    """The DLQ message of a rejected input, keyed like the input."""
    record = rejected_record(
        rejection, source, payload, key, rejected_at, prefix_bytes=prefix_bytes
    )
    return Output(
        topics.dlq,
        key,
        codec.encode(REJECTED_EVENT, record),
        rejection_headers(rejection, source),
    )


def changelog_output(change: StateChange, changelog_topics: dict[str, str]) -> Output:
    """A table change as a record of that table's changelog topic, on the input's partition."""
    return _new(
        Output, (changelog_topics[change.table], change.key, change.value, None, change.partition)
    )
