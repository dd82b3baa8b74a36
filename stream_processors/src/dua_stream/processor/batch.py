"""One batch of input messages to the messages to produce: decode, classify, route.

Pure apart from the state it is given: no Kafka, no clock of its own, so it is tested with
plain objects. Consent changes of a batch are applied before its access events (see
README.md, "Latest consent at processing time").
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from dua_policy import Engine, Purpose, Verdict
from dua_policy.compiler import ElementsPlan, Step
from dua_schemas import DataAccessEvent, to_millis
from dua_stream.processor.codec import RecordCodec
from dua_stream.processor.config import ProcessorTopics
from dua_stream.processor.decode import decode_access, decode_consent
from dua_stream.processor.fastpath import NO_CATEGORY, NativeBatch, build_access_path
from dua_stream.processor.reject import Rejection, SourcePosition
from dua_stream.processor.route import (
    Output,
    changelog_output,
    rejection_output,
    verdict_outputs,
    version_headers,
)
from dua_stream.processor.state import TableState
from dua_stream.processor.steps import CLASSIFY, CLASSIFY_FAILED

log = logging.getLogger("dua_stream.processor.batch")

# How far past the worker's clock an event time may move its partition's event time (which
# decides what state expires). Clocks of services differ by seconds; an event a year ahead
# is a broken clock, and must not expire a year of window entries at once.
MAX_CLOCK_AHEAD: Final = timedelta(minutes=5)


class InputMessage(Protocol):
    """What the processor needs of a consumed message (Faust's and test doubles fit)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


@dataclass(slots=True)
class BatchResult:
    """The messages to produce for one batch, and what to count once they are confirmed."""

    outputs: list[Output] = field(default_factory=list)
    events: Counter[tuple[str, str]] = field(default_factory=Counter)
    violations: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    consent_changes: int = 0
    occurred_at: list[float] = field(default_factory=list)  # epoch seconds, per tagged event
    policy_version: str = ""
    # access events more than MAX_CLOCK_AHEAD ahead of the worker's clock, by service
    clock_ahead: Counter[str] = field(default_factory=Counter)
    native: int = 0  # access events the native path processed itself (see fastpath.py)


class BatchProcessor:
    """Turns batches of raw and consent messages into outputs, with `state` kept up to date."""

    __slots__ = (
        "_changelogs",
        "_codec",
        "_dlq_prefix",
        "_engine",
        "_native",
        "_paths",
        "_processed_at_encoder",
        "_state",
        "_tables",
        "_topics",
    )

    def __init__(
        self,
        codec: RecordCodec,
        topics: ProcessorTopics,
        state: TableState,
        engine: Callable[[], Engine],
        changelog_topics: dict[str, str],
        *,
        dlq_prefix_bytes: int = 1024,
        native: bool = True,
    ) -> None:
        """`native`: run access events through the native `AccessPath` when it is built
        (`fastpath.py`; the same outputs, ~2x faster)."""
        self._codec = codec
        self._native = native
        # the batch's processing time as the native path's splicer writes it (fixed per codec)
        splice = codec.splicer
        parts = splice.native_parts() if splice is not None else None
        self._processed_at_encoder = parts.processed_at if parts is not None else None
        # the native path of the engine in force (rebuilt when a reload changes the engine)
        self._paths: tuple[Engine, Any | None] | None = None
        self._topics = topics
        self._state = state
        self._engine = engine
        self._changelogs = changelog_topics
        self._tables = {topic: table for table, topic in changelog_topics.items()}
        self._dlq_prefix = dlq_prefix_bytes

    def process(
        self,
        consent: Sequence[InputMessage],
        raw: Sequence[InputMessage],
        now: datetime,
    ) -> BatchResult:
        """Apply the consent changes, classify the access events, and route every result."""
        engine = self._engine()
        result = BatchResult(policy_version=engine.policy_version)
        latest_ms = to_millis(now + MAX_CLOCK_AHEAD)
        for message in consent:
            self._consent(engine, message, now, latest_ms, result)
        path = self._path(engine)
        if path is None:
            for message in raw:
                self._access(engine, message, now, latest_ms, result)
        else:
            result.native = path.run(
                NativeBatch(
                    messages=raw,
                    state=self._state,
                    result=result,
                    processed_at=self._processed_at(now),
                    now=now,
                    latest_ms=latest_ms,
                    headers=version_headers(engine.policy_version),
                    slow=lambda message: self._access(engine, message, now, latest_ms, result),
                    tail=lambda message, event, seen, known, fired, occurred_ms: self._findings(
                        engine, message, event, seen, known, fired, occurred_ms, now, result
                    ),
                )
            )
        if path is None or not path.drain(self._state, result.outputs, self._changelogs):
            result.outputs.extend(
                changelog_output(change, self._changelogs) for change in self._state.drain_changes()
            )
        return result

    @property
    def native(self) -> bool:
        """Whether access events go through the native `AccessPath` (with the engine in force)."""
        return self._path(self._engine()) is not None

    def _path(self, engine: Engine) -> Any | None:
        paths = self._paths
        if paths is None or paths[0] is not engine:
            path = build_access_path(self._codec, engine, self._topics) if self._native else None
            paths = self._paths = (engine, path)
        return paths[1]

    def _processed_at(self, now: datetime) -> bytes:
        encode = self._processed_at_encoder
        return encode(now) if encode is not None else b""

    def expire(self, window_ms: int) -> tuple[int, list[Output]]:
        """Delete expired re-identification entries; their tombstones to produce."""
        count = self._state.expire(window_ms)
        outputs = [changelog_output(c, self._changelogs) for c in self._state.drain_changes()]
        return count, outputs

    def refreshed(self, output: Output) -> Output:
        """`output` with the value its key has now, if it is a changelog record (a record
        produced again after a failed delivery must not carry an outdated value)."""
        table = self._tables.get(output.topic)
        if table is None or output.key is None:
            return output
        return output._replace(value=self._state.current_value(table, output.key))

    def _consent(
        self,
        engine: Engine,
        message: InputMessage,
        now: datetime,
        latest_ms: int,
        result: BatchResult,
    ) -> None:
        change = decode_consent(self._codec, message.value)
        if isinstance(change, Rejection):
            self._reject(change, message, now, result)
            return
        self._state.at(message.partition, min(to_millis(change["occurred_at"]), latest_ms))
        try:
            engine.apply_consent(change, self._state)
        except Exception as exc:  # an engine bug on one input must not stop the stream
            log.exception("consent change at %s/%s failed", message.topic, message.offset)
            self._reject(Rejection(CLASSIFY, CLASSIFY_FAILED, repr(exc)), message, now, result)
            return
        result.consent_changes += 1

    def _access(
        self,
        engine: Engine,
        message: InputMessage,
        now: datetime,
        latest_ms: int,
        result: BatchResult,
    ) -> None:
        event = decode_access(self._codec, message.value)
        if isinstance(event, Rejection):
            self._reject(event, message, now, result)
            return
        occurred_ms = to_millis(event["occurred_at"])
        if occurred_ms > latest_ms:
            result.clock_ahead[event["service"]] += 1
            self._state.at(message.partition, latest_ms)
        else:
            self._state.at(message.partition, occurred_ms)
        try:
            verdict = engine.classify(event, self._state)
        except Exception as exc:  # an engine bug on one event must not stop the stream
            self._classify_failed(exc, message, now, result)
            return
        self._emit(verdict, message, occurred_ms, now, result)

    def _findings(  # noqa: PLR0917 - the native path calls it with positional arguments
        self,
        engine: Engine,
        message: InputMessage,
        event: DataAccessEvent,
        seen: ElementsPlan,
        known: Purpose | None,
        fired: Sequence[Step],
        occurred_ms: int,
        now: datetime,
        result: BatchResult,
    ) -> None:
        """The rest of `_access` for an event the native path classified (its state written):
        the findings of the `fired` steps, then the outputs."""
        try:
            verdict = engine.verdict(event, known, seen, fired)
        except Exception as exc:  # as in `_access`
            self._classify_failed(exc, message, now, result)
            return
        self._emit(verdict, message, occurred_ms, now, result)

    def _emit(
        self,
        verdict: Verdict,
        message: InputMessage,
        occurred_ms: int,
        now: datetime,
        result: BatchResult,
    ) -> None:
        try:
            outputs = verdict_outputs(
                verdict, message.key, self._codec, self._topics, now, source=message.value
            )
        except Exception as exc:  # an encoding bug on one event must not stop the stream
            self._classify_failed(exc, message, now, result)
            return
        result.outputs.extend(outputs)
        service = verdict.event["service"]
        result.events[(service, verdict.purpose_category or NO_CATEGORY)] += 1
        for finding in verdict.violations:
            result.violations[(finding.rule, finding.severity, finding.mode, service)] += 1
        result.occurred_at.append(occurred_ms / 1000)  # Avro timestamps are whole ms

    def _classify_failed(
        self, exc: Exception, message: InputMessage, now: datetime, result: BatchResult
    ) -> None:
        """Log a bug met classifying or encoding one event, and send the event to the DLQ."""
        log.exception("classifying %s/%s failed", message.topic, message.offset, exc_info=exc)
        self._reject(Rejection(CLASSIFY, CLASSIFY_FAILED, repr(exc)), message, now, result)

    def _reject(
        self, rejection: Rejection, message: InputMessage, now: datetime, result: BatchResult
    ) -> None:
        source = SourcePosition(message.topic, message.partition, message.offset)
        result.outputs.append(
            rejection_output(
                rejection,
                source,
                message.value,
                message.key,
                codec=self._codec,
                topics=self._topics,
                rejected_at=now,
                prefix_bytes=self._dlq_prefix,
            )
        )
        result.rejected[rejection.reason] += 1
