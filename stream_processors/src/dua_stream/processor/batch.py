"""One batch of input messages to the messages to produce: decode, classify, route.

Pure apart from the state it is given: no Kafka, no clock of its own, so it is tested with
plain objects. Consent changes of a batch are applied before its access events, and an
access is judged by the consent in force at its `occurred_at`; a consent change applied after
accesses it precedes re-checks them (`recheck.py`; README.md, "Consent as it stood when the
access happened").
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
from dua_policy.state import consent_key
from dua_policy.stateful import CONSENT_RETENTION_MS
from dua_schemas import VIOLATION, DataAccessEvent, to_millis
from dua_stream.processor.codec import RecordCodec
from dua_stream.processor.config import ProcessorTopics
from dua_stream.processor.decode import decode_access, decode_consent
from dua_stream.processor.fastpath import NO_CATEGORY, NativeBatch, build_access_path
from dua_stream.processor.hold import CONSENT_GRACE_MS
from dua_stream.processor.recheck import recheck, remember
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
from dua_stream.processor.unconsented import consent_missing_flags, contradicted, keep_finding

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
    # violations found by a consent change after the grace (`Violation.detected_late_ms`), by rule
    late: Counter[str] = field(default_factory=Counter)
    # findings of consent-missing rules a consent change applied after them contradicts, by
    # rule (`unconsented.py`: the access was judged before the change arrived)
    contradicted: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class _Touched:
    """A subject's consent changes in one batch: its value before the first, whether any
    changed it, their times, the last one's message."""

    before: dict[str, Any] | None
    changed: bool
    times: set[int]
    message: InputMessage


class BatchProcessor:
    """Turns batches of raw and consent messages into outputs, with `state` kept up to date."""

    __slots__ = (
        "_changelogs",
        "_codec",
        "_dlq_prefix",
        "_engine",
        "_grace_ms",
        "_grant_flags",
        "_native",
        "_paths",
        "_processed_at_encoder",
        "_retention_ms",
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
        consent_grace_ms: int = CONSENT_GRACE_MS,
        consent_retention_ms: int = CONSENT_RETENTION_MS,
    ) -> None:
        """`native`: run access events through the native `AccessPath` when it is built
        (`fastpath.py`; the same outputs, ~2x faster). `consent_grace_ms`: how long after an
        access was judged a violation a consent change finds still counts as on time;
        `consent_retention_ms`: how long consent history and judged accesses are kept."""
        self._codec = codec
        self._grace_ms = consent_grace_ms
        self._retention_ms = consent_retention_ms
        self._native = native
        # the batch's processing time as the native path's splicer writes it (fixed per codec)
        splice = codec.splicer
        parts = splice.native_parts() if splice is not None else None
        self._processed_at_encoder = parts.processed_at if parts is not None else None
        # the native path of the engine in force (rebuilt when a reload changes the engine)
        self._paths: tuple[Engine, Any | None] | None = None
        # the consent-missing rules' flags of the engine in force (`unconsented.py`)
        self._grant_flags: tuple[Engine, dict[str, str]] | None = None
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
        touched: dict[str, _Touched] = {}
        for message in consent:
            self._consent(engine, message, now, latest_ms, result, touched=touched)
        for subject, seen in touched.items():
            self._recheck(engine, subject, seen, now, result)
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

    def _flags(self, engine: Engine) -> dict[str, str]:
        flags = self._grant_flags
        if flags is None or flags[0] is not engine:
            flags = self._grant_flags = (engine, consent_missing_flags(engine.policy))
        return flags[1]

    def _processed_at(self, now: datetime) -> bytes:
        encode = self._processed_at_encoder
        return encode(now) if encode is not None else b""

    def expire(self, window_ms: int) -> tuple[int, list[Output]]:
        """Delete expired re-identification entries and accesses kept for a consent re-check
        past the retention; their tombstones to produce."""
        count = self._state.expire(window_ms, self._retention_ms)
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
        *,
        touched: dict[str, _Touched],
    ) -> None:
        change = decode_consent(self._codec, message.value)
        if isinstance(change, Rejection):
            self._reject(change, message, now, result)
            return
        change_ms = to_millis(change["occurred_at"])
        self._state.at(message.partition, min(change_ms, latest_ms))
        subject = change["subject_id"]
        try:
            before = self._state.get(consent_key(subject))
            changed = engine.apply_consent(change, self._state, self._retention_ms)
        except Exception as exc:  # an engine bug on one input must not stop the stream
            log.exception("consent change at %s/%s failed", message.topic, message.offset)
            self._reject(Rejection(CLASSIFY, CLASSIFY_FAILED, repr(exc)), message, now, result)
            return
        result.consent_changes += 1
        seen = touched.get(subject)
        if seen is None:
            touched[subject] = _Touched(before, changed, {change_ms}, message)
        else:
            seen.changed |= changed
            seen.times.add(change_ms)
            seen.message = message

    def _recheck(
        self, engine: Engine, subject: str, seen: _Touched, now: datetime, result: BatchResult
    ) -> None:
        """Re-check the subject's kept accesses once the batch's changes of it are applied
        (all of them: an opt-out and the opt-in after it, in one batch, judge together)."""
        message = seen.message
        self._state.at(message.partition, self._state.event_ms)
        try:
            found = recheck(
                engine,
                self._state,
                subject,
                seen.before,
                seen.changed,
                seen.times,
                self._retention_ms,
                self._decoded,
            )
        except Exception as exc:  # as in `_consent`
            log.exception("consent re-check at %s/%s failed", message.topic, message.offset)
            self._reject(Rejection(CLASSIFY, CLASSIFY_FAILED, repr(exc)), message, now, result)
            return
        if found:
            self._rechecked(found, message, now, result)
        if seen.changed:
            self._contradicted(subject, message, now, result)

    def _contradicted(
        self, subject: str, message: InputMessage, now: datetime, result: BatchResult
    ) -> None:
        """Count (and log, by violation id) the subject's findings of consent-missing rules
        that the batch's changes contradict: the consent was given as of the access's time,
        but arrived after it was judged (the Violation stands: `unconsented.py`)."""
        try:
            found = contradicted(self._state, subject)
        except Exception:  # a kept value of another form must not stop the stream
            log.exception(
                "consent contradiction check at %s/%s failed", message.topic, message.offset
            )
            return
        now_ms = to_millis(now)
        for rule, violation, judged_ms in found:
            result.contradicted[rule] += 1
            log.warning(
                "violation %s (%s) is contradicted by a consent change that arrived %d ms "
                "after the access was judged: the consent was in force at the access's time",
                violation,
                rule,
                now_ms - judged_ms,
            )

    def _decoded(self, payload: bytes) -> DataAccessEvent | None:
        event = decode_access(self._codec, payload)
        return None if isinstance(event, Rejection) else event

    def _rechecked(
        self,
        found: list[tuple[Verdict, int]],
        message: InputMessage,
        now: datetime,
        result: BatchResult,
    ) -> None:
        """The Violations a consent change found among accesses judged before it arrived:
        marked late past the grace, with the ids they would have had on time."""
        now_ms = to_millis(now)
        for verdict, judged_ms in found:
            delay = now_ms - judged_ms
            late = delay if delay > self._grace_ms else 0
            headers = version_headers(verdict.policy_version)
            service = verdict.event["service"]
            for record, finding in zip(
                verdict.violation_records(now, late), verdict.violations, strict=True
            ):
                value = self._codec.encode(VIOLATION, record)
                result.outputs.append(Output(self._topics.violations, message.key, value, headers))
                result.violations[(finding.rule, finding.severity, finding.mode, service)] += 1
                if late:
                    result.late[finding.rule] += 1

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
            subject = event["subject_id"]
            if verdict.awaits_consent and subject is not None and message.value is not None:
                remember(
                    self._state,
                    subject,
                    occurred_ms,
                    to_millis(now),
                    message.value,
                    message.partition,
                )
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
        if verdict.violations:
            self._keep_unconsented(verdict, message, occurred_ms, now)
        result.occurred_at.append(occurred_ms / 1000)  # Avro timestamps are whole ms

    def _keep_unconsented(
        self, verdict: Verdict, message: InputMessage, occurred_ms: int, now: datetime
    ) -> None:
        """Keep the verdict's findings of consent-missing rules (`unconsented.py`): a consent
        change dated before the access may still arrive and contradict them."""
        subject = verdict.event["subject_id"]
        if subject is None:
            return
        flags = self._flags(self._engine())
        for finding in verdict.violations:
            flag = flags.get(finding.rule)
            if flag is not None:
                keep_finding(
                    self._state,
                    subject,
                    occurred_ms,
                    to_millis(now),
                    finding.violation_id,
                    finding.rule,
                    flag,
                    message.partition,
                )

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
