"""`BatchProcessor`: one batch of consumed messages to the messages to produce."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from dua_policy import Engine
from dua_schemas import WireCodec
from dua_stream.processor import BatchProcessor, RecordCodec, TableState
from dua_stream.processor.batch import MAX_CLOCK_AHEAD

from .conftest import CHANGELOGS, T0, TOPICS, Message, access_event, ad_event, opt_out

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _processor(codec: RecordCodec, engine: Engine | Any) -> BatchProcessor:
    return BatchProcessor(codec, TOPICS, TableState({}, {}), lambda: engine, CHANGELOGS)


def _routed(outputs: list[Any]) -> list[Any]:
    """Outputs to the pipeline's topics (not the tables' changelogs)."""
    return [o for o in outputs if o.topic not in CHANGELOGS.values()]


def _raw(wire: WireCodec, events: list[dict[str, Any]]) -> list[Message]:
    return [
        Message("raw", 0, i, e["subject_id"].encode(), wire.encode("DataAccessEvent", e))
        for i, e in enumerate(events)
    ]


def test_mixed_batch_routes_every_input(
    codec: RecordCodec, wire: WireCodec, engine: Engine
) -> None:
    """Good events are tagged, findings become violations, bad inputs go to the DLQ."""
    violating = access_event(
        service="hotpepper-gourmet",
        purpose="marketing.targeted_advertising",
        elements=["user.name", "user.device.ad_id"],
        destination={"kind": "AD_PLATFORM", "name": "ad-network"},
    )
    messages = [*_raw(wire, [access_event(), violating]), Message("raw", 1, 9, b"k", b"junk")]
    result = _processor(codec, engine).process([], messages, T0)
    topics = Counter(o.topic for o in _routed(result.outputs))
    assert topics == {"tagged": 2, "violations": 2, "dlq": 1}
    assert result.rejected == {"unknown_framing": 1}
    assert sum(result.events.values()) == 2
    assert {rule for rule, *_ in result.violations} == {
        "purpose_not_permitted",
        "personal_data_to_ad_platform",
    }
    dlq = next(o for o in result.outputs if o.topic == "dlq")
    record = wire.decode(dlq.value or b"").record
    assert (record["source_partition"], record["source_offset"], dlq.key) == (1, 9, b"k")


def test_outputs_are_keyed_like_inputs_and_carry_the_policy_version(
    codec: RecordCodec, wire: WireCodec, engine: Engine
) -> None:
    """Tagged events keep the subject key and name the policy version in a header."""
    (message,) = _raw(wire, [access_event()])
    (output,) = _routed(_processor(codec, engine).process([], [message], T0).outputs)
    assert output.key == message.key
    assert output.headers == [("dua.policy_version", engine.policy_version.encode())]
    assert wire.decode(output.value or b"").record["policy_version"] == engine.policy_version


def test_consent_of_a_batch_applies_before_its_events(
    codec: RecordCodec, wire: WireCodec, engine: Engine
) -> None:
    """An opt-out fetched with an ad in the same batch already counts for that ad."""
    subject = "a" * 64
    consent = [
        Message("consent", 0, 0, subject.encode(), wire.encode("ConsentChange", opt_out(subject)))
    ]
    result = _processor(codec, engine).process(consent, _raw(wire, [ad_event(subject)]), T0)
    assert result.consent_changes == 1
    assert [rule for rule, *_ in result.violations] == ["targeting_opted_out"]
    changelog = [o for o in result.outputs if o.topic == CHANGELOGS["consent"]]
    assert [(o.partition, o.key) for o in changelog] == [(0, f'"consent:{subject}"'.encode())]


class _Exploding:
    """An engine that fails on one kind of event, as a bug would."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.policy_version = engine.policy_version

    def classify(self, event: Any, state: Any) -> Any:
        if event["service"] == "boom":
            raise RuntimeError("engine bug")
        return self._engine.classify(event, state)

    def apply_consent(self, change: Any, state: Any) -> None:
        self._engine.apply_consent(change, state)


def test_an_engine_error_on_one_event_is_rejected_not_raised(
    codec: RecordCodec, wire: WireCodec, engine: Engine
) -> None:
    """The failing event goes to the DLQ as classify_failed; the rest of the batch is tagged."""
    messages = _raw(wire, [access_event(), access_event(service="boom"), access_event()])
    result = _processor(codec, _Exploding(engine)).process([], messages, T0)
    assert Counter(o.topic for o in _routed(result.outputs)) == {"tagged": 2, "dlq": 1}
    assert result.rejected == {"classify_failed": 1}


def test_a_changelog_record_produced_again_carries_the_value_its_key_has_now(
    codec: RecordCodec, wire: WireCodec, engine: Engine
) -> None:
    """A batch's consent record failed to deliver; a later batch changed the key since. The
    retry carries the later value (the compacted changelog keeps the last record of a key)."""
    subject = "a" * 64
    processor = _processor(codec, engine)

    def consent(offset: int, opted_out: bool) -> Message:
        change = {**opt_out(subject), "targeting_opt_out": opted_out}
        return Message("consent", 0, offset, subject.encode(), wire.encode("ConsentChange", change))

    (failed,) = processor.process([consent(0, True)], [], T0).outputs
    (later,) = processor.process([consent(1, False)], [], T0).outputs
    assert failed.value != later.value
    assert processor.refreshed(failed) == later
    tagged = processor.process([], _raw(wire, [access_event()]), T0).outputs[0]
    assert tagged.topic == "tagged"
    assert processor.refreshed(tagged) is tagged  # only changelog records are refreshed


def _linkable(subject: str, at: datetime) -> dict[str, Any]:
    """Half of a re-identification pattern: it opens a window entry for `subject`."""
    return access_event(
        subject_id=subject,
        occurred_at=at,
        service="hotpepper-gourmet",
        purpose="research.profiling",
        elements=["user.behavior.usage_history"],
        processing="PSEUDONYMIZED",
        actor={"kind": "EMPLOYEE", "id": "analyst-7"},
    )


def test_an_event_from_the_future_does_not_expire_the_present(
    codec: RecordCodec, wire: WireCodec, engine: Engine
) -> None:
    """A service whose clock runs a year ahead must not move its partition's event time a
    year on: every window entry of the partition would then be expired at once, and every
    new one at the next round, for a year. Event times count up to `MAX_CLOCK_AHEAD` past
    the worker's clock; the event itself is still classified on its own time."""
    state = TableState({}, {})
    processor = BatchProcessor(codec, TOPICS, state, lambda: engine, CHANGELOGS)
    now = T0
    events = [_linkable("a" * 64, now), _linkable("b" * 64, now + timedelta(days=365))]
    result = processor.process([], _raw(wire, events), now)
    assert len(_routed(result.outputs)) == 2
    assert result.clock_ahead == {"hotpepper-gourmet": 1}
    assert state.watermarks[0] == (now + MAX_CLOCK_AHEAD - EPOCH) // timedelta(milliseconds=1)
    window = engine.policy.reidentification_window // timedelta(milliseconds=1)
    processor.expire(window)
    assert state.get("reid:" + "a" * 64) is not None  # the present entry is kept
