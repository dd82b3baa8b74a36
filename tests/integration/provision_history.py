"""Tagged access events as the processor writes them (the real engine's verdicts, provision
decisions included), written through the real sink path into a test database."""

from __future__ import annotations

import uuid
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from dua_policy import Engine, MemoryState, load_policy
from dua_schemas import WireCodec, consent_from_json, event_from_json
from dua_sink import AuditStore, PartitionBuffer, RecordRouter, SinkTopics
from dua_sink.row_mapping import Source

TOPICS: Final = SinkTopics(tagged="t.tagged", violations="t.violations", dlq="t.dlq")
CODEC: Final = WireCodec()
NOW: Final = datetime.now(UTC).replace(microsecond=0)
ADS: Final = ["user.behavior.browsing_history", "user.device.ad_id"]
CONSENTING: Final = "consented"  # the one subject whose link consent is in force


def _engine() -> tuple[Engine, MemoryState]:
    engine, state = Engine(load_policy()), MemoryState()
    change = {
        "subject_id": CONSENTING,
        "occurred_at": (NOW - timedelta(days=2000)).isoformat(),
        "third_party_link_consent": True,
    }
    engine.apply_consent(consent_from_json(change), state)
    return engine, state


ENGINE, STATE = _engine()


def tagged(subject: str, destination: dict[str, Any], at: datetime, **fields: Any) -> bytes:
    """The tagged event of an ad access to `destination` (fields overridable)."""
    event = event_from_json(
        {
            "event_id": str(uuid.uuid4()),
            "occurred_at": at.isoformat(),
            "service": "hotpepper-gourmet",
            "actor": {"kind": "SERVICE", "id": "ads-api"},
            "subject_id": subject,
            "elements": ADS,
            "purpose": "marketing.targeted_advertising",
            "destination": destination,
            **fields,
        }
    )
    verdict = ENGINE.classify(event, STATE)
    return CODEC.encode("TaggedAccessEvent", verdict.tagged(at))


def write(store: AuditStore, payloads: list[bytes], first_offset: int = 0) -> None:
    """Write the payloads as one partition's records from `first_offset` on, through the
    sink's router and store."""
    router = RecordRouter(TOPICS, CODEC)
    buffer = PartitionBuffer(TOPICS.tagged, 0)
    for offset, payload in enumerate(payloads, start=first_offset):
        routed = router.route(Source(TOPICS.tagged, 0, offset, NOW), payload, None)
        buffer.add(offset, routed, zlib.crc32(payload))
    buffer.plan = store.planned_ranges(buffer.topic, 0, first_offset)
    segments = buffer.cut(1000, due=True)
    store.record_plan([s for s in segments if not s.planned])
    for segment in segments:
        store.write(segment)
