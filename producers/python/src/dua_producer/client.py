"""`AuditClient`: what a service calls to report accesses to personal data and consent changes.

`emit` validates, pseudonymizes the subject, encodes, and hands the message to `Delivery`;
it returns at once (never waiting past `emit_max_block_s`) and raises only `InvalidEvent`
for an event that breaks the contract. Delivery problems never reach the caller: the spool
takes what Kafka does not, and the replay thread sends it later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dua_producer.access_shape import AccessShape, per_call_fields_pass
from dua_producer.config import ProducerConfig
from dua_producer.delivery import Delivery
from dua_producer.event_ids import EventIds
from dua_producer.kafka_transport import KafkaTransport
from dua_producer.prepared_access import PreparedAccess
from dua_producer.prometheus import export_metrics
from dua_producer.pseudonym import Pseudonymizer
from dua_producer.recording import Access, audited, record_access
from dua_producer.replay import Replayer
from dua_producer.shape_cache import ShapeCache
from dua_producer.spool import Spool
from dua_producer.stats import DeliveryStats, StatsSnapshot
from dua_producer.transport import Transport
from dua_producer.vocabulary import ActorKind, DestinationKind, Operation, Processing
from dua_schemas import (
    CONSENT_CHANGE,
    DuaError,
    InvalidEvent,
    WireCodec,
    codec_for,
    to_millis,
    validate_consent,
    validate_event,
)

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

Clock = Callable[[], datetime]


class ClientClosed(DuaError):
    """`emit` after `close()`: a bug in the service's shutdown order."""


class AuditClient:
    """Reports accesses; build one per process, at start-up, and `close()` it at shutdown."""

    def __init__(
        self,
        config: ProducerConfig | None = None,
        *,
        transport: Transport | None = None,
        clock: Clock | None = None,
        metrics_registry: CollectorRegistry | None = None,
        metrics: bool = True,
        **settings: Any,
    ) -> None:
        """Build from `config`, from keyword settings (`ProducerConfig` fields), or both.

        `transport` defaults to Kafka; `clock` (tz-aware UTC datetimes) to the system clock.
        With prometheus-client installed and `metrics` on, the counters are exported to
        `metrics_registry` (default: prometheus-client's global registry).
        """
        if config is None:
            config = ProducerConfig(**settings)
        elif settings:
            config = config.with_changes(**settings)
        self.config = config
        self._clock = clock
        self._codec = codec_for(config.schema_registry_url)
        self._pseudonymize = Pseudonymizer(config.subject_key)
        self._ids = EventIds()
        self._shapes = ShapeCache(config, self._codec)
        self._encoder = self._shapes.encoder
        self._max_bytes = config.max_event_bytes
        self._topic_raw = config.topic_raw
        transport = transport if transport is not None else KafkaTransport(config)
        spool = Spool(
            config.spool_dir,
            max_bytes=config.spool_max_bytes,
            segment_bytes=config.spool_segment_bytes,
            fsync=config.spool_fsync,
            fsync_interval_s=config.spool_fsync_interval_s,
        )
        self._stats = DeliveryStats(lambda: (spool.size_bytes, spool.pending))
        self._delivery = Delivery(
            transport, spool, self._stats, max_block_s=config.emit_max_block_s
        )
        try:
            transport.start(self._delivery)
        except BaseException:
            spool.close()
            raise
        self._replayer = Replayer(
            self._delivery,
            self._stats,
            batch=config.replay_batch,
            delivery_timeout_s=config.delivery_timeout_s,
            backoff_max_s=config.replay_backoff_max_s,
        )
        self._replayer.start()
        self._unexport = (
            export_metrics(self._stats.snapshot, metrics_registry) if metrics else _no_export
        )
        self._closed = False

    # -- access events ----------------------------------------------------------------------
    def emit(
        self,
        elements: Sequence[str],
        purpose: str | None = None,
        *,
        subject: object = None,
        operation: Operation = "READ",
        processing: Processing = "RAW",
        destination: DestinationKind = "INTERNAL",
        destination_name: str | None = None,
        origin_service: str | None = None,
        targeting_opt_out: bool = False,
        publication_consent: bool = False,
        payroll_other_use_consent: bool = False,
        record_count: int = 1,
        trace_id: str | None = None,
        attributes: Mapping[str, str] | None = None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
        actor_kind: ActorKind | None = None,
        actor_id: str | None = None,
    ) -> str:
        """Report one access to personal data; return its event id.

        `subject` is the raw id of the person whose data was accessed (a string or an
        integer); only its pseudonym leaves the process. `elements` are element codes, never
        values. Raises `InvalidEvent` (naming the field) for an event that breaks the
        contract, before anything is sent; never raises for delivery problems.
        """
        try:
            key = (
                tuple(elements) if type(elements) is list else elements,
                purpose,
                operation,
                processing,
                destination,
                destination_name,
                origin_service,
                targeting_opt_out,
                publication_consent,
                payroll_other_use_consent,
                tuple(attributes.items()) if attributes else None,
                actor_kind,
                actor_id,
            )
            shape = self._shapes.get(key)
        except (TypeError, AttributeError):  # unhashable or wrongly typed: the slow path says why
            key, shape = None, None
        if shape is None:
            shape = self._shapes.build(
                key,
                elements=elements,
                purpose=purpose,
                operation=operation,
                processing=processing,
                destination=destination,
                destination_name=destination_name,
                origin_service=origin_service,
                targeting_opt_out=targeting_opt_out,
                publication_consent=publication_consent,
                payroll_other_use_consent=payroll_other_use_consent,
                attributes=attributes,
                actor_kind=actor_kind,
                actor_id=actor_id,
            )
        return self._emit_shape(
            shape,
            subject,
            record_count=record_count,
            trace_id=trace_id,
            event_id=event_id,
            occurred_at=occurred_at,
        )

    record = emit  # the same call, for code that reads better as "record an access"

    def prepare(
        self,
        elements: Sequence[str],
        purpose: str | None = None,
        *,
        operation: Operation = "READ",
        processing: Processing = "RAW",
        destination: DestinationKind = "INTERNAL",
        destination_name: str | None = None,
        origin_service: str | None = None,
        targeting_opt_out: bool = False,
        publication_consent: bool = False,
        payroll_other_use_consent: bool = False,
        attributes: Mapping[str, str] | None = None,
        actor_kind: ActorKind | None = None,
        actor_id: str | None = None,
    ) -> PreparedAccess:
        """Validate a call site's fixed fields now; `PreparedAccess.emit` then adds the rest."""
        shape = self._shapes.build(
            None,
            elements=elements,
            purpose=purpose,
            operation=operation,
            processing=processing,
            destination=destination,
            destination_name=destination_name,
            origin_service=origin_service,
            targeting_opt_out=targeting_opt_out,
            publication_consent=publication_consent,
            payroll_other_use_consent=payroll_other_use_consent,
            attributes=attributes,
            actor_kind=actor_kind,
            actor_id=actor_id,
        )
        return PreparedAccess(self, shape)

    @contextmanager
    def access(
        self, elements: Sequence[str], purpose: str | None = None, **fields: Any
    ) -> Iterator[Access]:
        """Record one access when the block ends (also when it raises: data may have been read).

        The block may set `subject`, `record_count`, `trace_id` or add `attributes` on the
        object it receives.
        """
        with record_access(self, elements, purpose, **fields) as access:
            yield access

    def audited(
        self, elements: Sequence[str], purpose: str | None = None, **fields: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """`dua_producer.audited` bound to this client."""
        return audited(elements, purpose, client=self, **fields)

    # -- consent --------------------------------------------------------------------------
    def emit_consent(
        self,
        subject: object,
        *,
        targeting_opt_out: bool = False,
        publication_consent: bool = False,
        payroll_other_use_consent: bool = False,
        third_party_link_consent: bool = False,
        occurred_at: datetime | None = None,
    ) -> None:
        """Report a subject's complete current consent choices (a ConsentChange).

        Every flag is sent: the stream keeps the latest record per subject, so an omitted
        flag means "not given".
        """
        self._check_open()
        pseudonym = self._pseudonymize(subject)
        change: dict[str, Any] = {
            "subject_id": pseudonym,
            "occurred_at": occurred_at if occurred_at is not None else self._now(),
            "targeting_opt_out": targeting_opt_out,
            "publication_consent": publication_consent,
            "payroll_other_use_consent": payroll_other_use_consent,
            "third_party_link_consent": third_party_link_consent,
        }
        validate_consent(change)
        value = self._codec.encode(CONSENT_CHANGE, change)
        self._stats.add_emitted()
        self._delivery.send(self.config.topic_consent, pseudonym.encode(), value)

    # -- delivery -------------------------------------------------------------------------
    def flush(self, timeout: float = 10.0) -> int:
        """Wait up to `timeout` s until every event is delivered or on disk in the spool.

        Returns how many events are still on their way to Kafka (0: all settled). Blocks:
        from asyncio code use `aflush`.
        """
        remaining = self._delivery.transport.flush(timeout)
        self._delivery.spool.sync()
        return remaining

    async def aflush(self, timeout: float = 10.0) -> int:
        """`flush` in a worker thread, for asyncio code."""
        return await asyncio.to_thread(self.flush, timeout)

    def stats(self) -> StatsSnapshot:
        """The client's counters now (the same numbers the Prometheus metrics show)."""
        return self._stats.snapshot()

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what can be within `timeout`, spool the rest, stop the replay thread."""
        if self._closed:
            return
        self._closed = True
        self._replayer.stop()
        try:
            self._delivery.transport.close(timeout)
        finally:
            self._delivery.spool.close()
            self._unexport()

    async def aclose(self, timeout: float = 10.0) -> None:
        """`close` in a worker thread, for asyncio code."""
        await asyncio.to_thread(self.close, timeout)

    def __enter__(self) -> AuditClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> AuditClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def codec(self) -> WireCodec:
        """The wire codec this client encodes with (decode captured messages with it)."""
        return self._codec

    # -- internals ------------------------------------------------------------------------
    def _reroute(self, transport: Transport, spool_dir: Path) -> Callable[[], None]:
        """Send through `transport` until the returned function is called (`testing`)."""
        spool = Spool(
            spool_dir,
            max_bytes=self.config.spool_max_bytes,
            segment_bytes=self.config.spool_segment_bytes,
            fsync="never",
        )
        delivery = Delivery(transport, spool, self._stats, max_block_s=0.0)
        transport.start(delivery)
        previous, self._delivery = self._delivery, delivery

        def restore() -> None:
            self._delivery = previous
            spool.close()

        return restore

    def _now(self) -> datetime:
        return self._clock() if self._clock is not None else datetime.now(UTC)

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosed("the audit client is closed; emit before close()")

    def _emit_shape(
        self,
        shape: AccessShape,
        subject: object,
        *,
        record_count: int,
        trace_id: str | None,
        event_id: str | None,
        occurred_at: datetime | None,
    ) -> str:
        if self._closed:
            self._check_open()
        pseudonym = None if subject is None else self._pseudonymize(subject)
        if (
            event_id is None
            and occurred_at is None
            and self._clock is None
            and per_call_fields_pass(record_count, trace_id)
        ):
            # The id, time and pseudonym are made here and valid by construction.
            event_id = self._ids()
            millis = time.time_ns() // 1_000_000
        else:
            event_id = event_id if event_id is not None else self._ids()
            when = occurred_at if occurred_at is not None else self._now()
            validate_event(
                {
                    **shape.template,
                    "event_id": event_id,
                    "occurred_at": when,
                    "subject_id": pseudonym,
                    "record_count": record_count,
                    "trace_id": trace_id,
                }
            )
            millis = to_millis(when)
        value = self._encoder.encode(
            shape.prepared, (event_id, millis, pseudonym, record_count, trace_id)
        )
        if len(value) > self._max_bytes:
            raise InvalidEvent(
                "event",
                f"encodes to {len(value)} bytes; at most {self._max_bytes} "
                "(DUA_MAX_EVENT_BYTES): report fewer elements or attributes per event",
            )
        self._stats.add_emitted()
        self._delivery.send(self._topic_raw, (pseudonym or event_id).encode(), value)
        return event_id


def _no_export() -> None:
    return None
