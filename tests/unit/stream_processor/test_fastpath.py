"""The native access path (`fastpath.py`) against the Python path: the same inputs must give
the same outputs byte for byte, the same counts and the same state, batch after batch.

Each test runs two `BatchProcessor`s side by side, one with `native=False`, on the same
messages, and compares everything they leave behind. The random streams mix what the native
path does itself (compliant events, findings, consent, re-identification windows, pruning)
with what it must hand to Python (other framings, junk, invalid events, unknown purposes,
events far ahead, first sights of shapes and element lists).
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from dua_policy import Engine, load_policy
from dua_schemas import (
    ACTOR_KINDS,
    CONSENT_CHANGE_FLAGS,
    DESTINATION_KINDS,
    OPERATIONS,
    PROCESSING_STATES,
    WireCodec,
)
from dua_stream.processor import BatchProcessor, BatchResult, RecordCodec, TableState

from .conftest import (
    CHANGELOGS,
    T0,
    TOPICS,
    Message,
    access_event,
    ad_event,
    opt_out,
    use_backend,
)


@pytest.fixture(params=["native"])
def native(request: pytest.FixtureRequest) -> bool:
    return use_backend(request.param, modules=("dua_schemas_native", "dua_stream_native"))


@dataclass
class Pair:
    """A native and a Python processor, each with its own state, fed the same batches."""

    codec: RecordCodec
    engine: Engine
    states: tuple[TableState, TableState] = field(
        default_factory=lambda: (TableState({}, {}), TableState({}, {}))
    )

    def __post_init__(self) -> None:
        self.processors = tuple(
            BatchProcessor(
                self.codec, TOPICS, state, lambda: self.engine, CHANGELOGS, native=native
            )
            for state, native in zip(self.states, (True, False), strict=True)
        )

    def process(self, consent: list[Message], raw: list[Message], now: Any) -> BatchResult:
        fast, slow = (p.process(consent, raw, now) for p in self.processors)
        assert slow.native == 0
        assert fast.outputs == slow.outputs
        for name in (
            "events",
            "violations",
            "rejected",
            "clock_ahead",
            "occurred_at",
            "late",
            "contradicted",
        ):
            assert getattr(fast, name) == getattr(slow, name), name
        assert (fast.consent_changes, fast.policy_version) == (
            slow.consent_changes,
            slow.policy_version,
        )
        self.assert_same_state()
        return fast

    def expire(self, window_ms: int) -> None:
        fast, slow = (p.expire(window_ms) for p in self.processors)
        assert fast == slow
        self.assert_same_state()

    def assert_same_state(self) -> None:
        fast, slow = self.states
        assert fast.sizes() == slow.sizes()
        assert fast._reid == slow._reid  # the stores themselves are compared
        assert fast._consent == slow._consent
        assert fast._consent_partitions == slow._consent_partitions
        assert fast.watermarks == slow.watermarks
        assert (fast.partition, fast.event_ms) == (slow.partition, slow.event_ms)


class Stream:
    """Random access events and consent changes over a few subjects, actors and shapes."""

    def __init__(self, seed: int, wire: WireCodec, engine: Engine) -> None:
        self.rng = random.Random(seed)
        # recipients and record counts come from a stream of their own, so that adding them
        # left the rest of each seed's stream as it was
        self.recipients = random.Random(-seed - 1)
        self.wire = wire
        tables = engine.tables()
        self.purposes = [*tables.purposes, "marketing.not_in_policy", None]
        self.services = [*sorted(tables.services), "not-a-named-service"]
        self.elements = [e.code for e in engine.policy.elements] + ["x.not_in_catalog"]
        self.flags = list(tables.consent_flags)
        self.subjects = [uuid.UUID(int=self.rng.getrandbits(128)).hex * 2 for _ in range(6)]
        self.window = engine.policy.reidentification_window
        self.offset = 0

        # Shapes and element lists recur in real traffic (that is what the native path
        # counts on): a few profiles, each with a few element lists, and now and then a new one.
        self.profiles = [self._profile() for _ in range(10)]

    def _pick(self, options: list[Any]) -> Any:
        return self.rng.choice(options)

    def _profile(self) -> tuple[dict[str, Any], list[list[str]]]:
        rng = self.rng
        service = self._pick(self.services)
        fields = {
            "service": service,
            "purpose": self._pick(self.purposes),
            "operation": self._pick(list(OPERATIONS)),
            "processing": self._pick(list(PROCESSING_STATES)),
            # declared recipients (one linking informative data), undeclared ones, none
            "destination": {
                "kind": self._pick(list(DESTINATION_KINDS)),
                "name": self.recipients.choice(
                    [None, "partner-salon", "google-ads", "jalan", "nobody"]
                ),
            },
            "record_count": self.recipients.choice([1, 1, 1, 10_001, 200_000]),
            "origin_service": self._pick([None, None, "", service, self._pick(self.services)]),
            "consent": {flag: rng.random() < 0.2 for flag in self.flags},
        }
        lists = [rng.sample(self.elements, rng.randint(1, 4)) for _ in range(3)]
        return fields, lists

    def event(self, now: Any) -> dict[str, Any]:
        rng = self.rng
        fields, lists = self._profile() if rng.random() < 0.03 else self._pick(self.profiles)
        return access_event(
            **fields,
            occurred_at=now - self.window * rng.uniform(-0.2, 2.5),
            actor={"kind": self._pick(list(ACTOR_KINDS)), "id": f"actor-{rng.randrange(7)}"},
            subject_id=None if rng.random() < 0.05 else self._pick(self.subjects),
            elements=list(self._pick(lists)),
        )

    def message(self, value: bytes, key: bytes | None, topic: str = "raw") -> Message:
        self.offset += 1
        return Message(topic, self.rng.randrange(3), self.offset, key, value)

    def raw(self, now: Any) -> Message:
        roll = self.rng.random()
        event = self.event(now)
        key = (event["subject_id"] or "").encode() or None
        if roll < 0.03:
            return self.message(b"junk", key)
        if roll < 0.06:
            event["elements"] = []  # invalid: the quick check says no, Python says why
        elif roll < 0.08:
            event["occurred_at"] = now + timedelta(days=self.rng.randint(1, 400))
        value = self.wire.encode("DataAccessEvent", event)
        if roll > 0.98:
            value += b"\x00"  # trailing bytes
        return self.message(value, key)

    def consent(self, now: Any) -> Message:
        subject = self._pick(self.subjects)
        change = {
            "subject_id": subject,
            "occurred_at": now - timedelta(minutes=self.rng.randint(0, 60)),
            **{flag: self.rng.random() < 0.5 for flag in CONSENT_CHANGE_FLAGS},
        }
        return self.message(
            self.wire.encode("ConsentChange", change), subject.encode(), topic="consent"
        )


@pytest.mark.parametrize("seed", range(8))
def test_random_streams_give_the_same_outputs_counts_and_state(
    native: bool, codec: RecordCodec, wire: WireCodec, seed: int
) -> None:
    engine = Engine(load_policy())  # a fresh engine: no plans compiled yet
    pair = Pair(codec, engine)
    assert pair.processors[0].native is native
    assert pair.processors[1].native is False
    stream = Stream(seed, wire, engine)
    window_ms = engine.policy.reidentification_window // timedelta(milliseconds=1)
    now = T0
    totals: dict[str, int] = {"tagged": 0, "violations": 0, "dlq": 0, "native": 0, "raw": 0}
    for _ in range(12):
        now += stream.window * stream.rng.uniform(0, 0.7)
        consent = [stream.consent(now) for _ in range(stream.rng.randrange(4))]
        raw = [stream.raw(now) for _ in range(stream.rng.randrange(40, 160))]
        result = pair.process(consent, raw, now)
        totals["native"] += result.native
        totals["raw"] += len(raw)
        for output in result.outputs:
            if output.topic in totals:
                totals[output.topic] += 1
        pair.expire(window_ms)
    # the stream reached every kind of output, so each was compared, and most events took
    # the native path (the rest: first sights, and the inputs it leaves to Python)
    assert all(count > 0 for count in totals.values()), totals
    assert totals["native"] > totals["raw"] / 2, totals


@pytest.mark.parametrize(
    "stored",
    [
        {"p": 0, "t": 1.5, "v": {}},  # a float time
        {"p": 0, "t": True, "v": {}},  # a bool is no time
        {"p": 0, "v": {}},  # no time
        {"p": 0, "t": 0, "v": None},
        {"p": 0, "t": 0, "v": {"EMPLOYEE:analyst-7": []}},
        {"p": 0, "t": 0, "v": {"EMPLOYEE:analyst-7": {"linkable_at": "soon"}}},
        {"p": 0, "t": 0, "v": {f"EMPLOYEE:a{i}": {"fired_at": 2**70} for i in range(5)}},
        {"p": 0, "t": 0, "v": {f"EMPLOYEE:a{i}": {"identifying_at": i} for i in range(5)}},
        ["not", "a", "dict"],
    ],
)
def test_state_of_an_unexpected_form_is_left_to_python(
    native: bool, codec: RecordCodec, wire: WireCodec, engine: Engine, stored: Any
) -> None:
    """Values restored from a changelog may be anything JSON holds: the native path must not
    read them another way than Python does (Python may also fail on them: a rejection)."""
    subject = "d" * 64
    pair = Pair(codec, engine)
    for state in pair.states:
        state._reid["reid:" + subject] = stored  # as Faust restores it
        state._consent["consent:" + subject] = stored
    events = [
        access_event(
            subject_id=subject,
            service="hotpepper-gourmet",
            purpose=purpose,
            elements=elements,
            processing=processing,
            actor={"kind": "EMPLOYEE", "id": "analyst-7"},
            destination={"kind": kind, "name": "ad-network" if kind == "AD_PLATFORM" else None},
        )
        for purpose, elements, processing, kind in [
            ("research.profiling", ["user.behavior.usage_history"], "PSEUDONYMIZED", "INTERNAL"),
            ("research.profiling", ["user.name"], "RAW", "INTERNAL"),
            (
                "marketing.targeted_advertising",
                ["user.behavior.browsing_history", "user.device.ad_id"],
                "RAW",
                "AD_PLATFORM",
            ),
        ]
    ]
    for _ in range(2):  # the second time every shape is compiled: the native path runs
        messages = [
            Message("raw", 0, i, subject.encode(), wire.encode("DataAccessEvent", e))
            for i, e in enumerate(events)
        ]
        pair.process([], messages, T0)


@pytest.mark.parametrize(
    "value",
    [
        {"text": 'quote " backslash \\ slash / del \x7f'},
        {"controls": "".join(chr(c) for c in range(32))},
        {"unicode": "é \u2028 \U0001f600 個人情報"},
        {"ints": [0, -1, 2**63 - 1, -(2**63)], "flags": [True, False, None]},
        {"nested": {"deeper": [{"a": 1}, []]}, "empty": {}},
        {"too big": 2**64},  # orjson refuses: `json` writes it, via Python
        {"surrogate": "\ud800"},  # orjson refuses: `json` writes it, via Python
        {"float": 0.1},  # left to orjson
    ],
)
def test_changelog_records_are_the_json_orjson_writes(
    native: bool, codec: RecordCodec, engine: Engine, value: dict[str, Any]
) -> None:
    pair = Pair(codec, engine)
    for state in pair.states:
        state.at(1, 5)
        state.put("consent:" + "e" * 64, value)
        state.put("reid:" + "e" * 64, {"x": value})
        state.put('consent:\x01\u00e9"', {"ok": True})
    result = pair.process([], [], T0)
    assert len(result.outputs) == 3


class _Subclass(Engine):
    """An engine that classifies otherwise: the native path, which is `Engine.classify`,
    must not stand in for it."""


def test_an_engine_of_another_class_is_classified_in_python(
    native: bool, codec: RecordCodec, engine: Engine
) -> None:
    processor = BatchProcessor(
        codec, TOPICS, TableState({}, {}), lambda: _Subclass(engine.policy), CHANGELOGS
    )
    assert processor.native is False
    assert BatchProcessor(codec, TOPICS, TableState({}, {}), lambda: engine, CHANGELOGS).native


def test_without_native_codecs_the_python_path_runs(native: bool, engine: Engine) -> None:
    for codec in (
        RecordCodec(WireCodec(native_readers=False)),
        RecordCodec(WireCodec(compiled_readers=False)),
        RecordCodec(WireCodec(), native=False),
    ):
        processor = BatchProcessor(codec, TOPICS, TableState({}, {}), lambda: engine, CHANGELOGS)
        assert processor.native is False


def test_findings_are_made_on_the_native_path(
    native: bool, codec: RecordCodec, wire: WireCodec, engine: Engine
) -> None:
    """Once the Python path has compiled the shape (first event), the native path classifies
    the rest, findings and violation records included, with the same bytes."""
    violating = [
        access_event(
            service="hotpepper-gourmet",
            purpose="marketing.targeted_advertising",
            elements=["user.name", "user.device.ad_id"],
            destination={"kind": "AD_PLATFORM", "name": "ad-network"},
            subject_id=f"{i:064x}",
        )
        for i in range(20)
    ]
    messages = [
        Message("raw", i % 2, i, e["subject_id"].encode(), wire.encode("DataAccessEvent", e))
        for i, e in enumerate(violating)
    ]
    result = Pair(codec, Engine(load_policy())).process([], messages, T0)
    assert result.native == len(messages) - 1
    assert sum(result.violations.values()) == 2 * len(messages)


def test_the_latest_consent_decides_on_the_native_path(
    native: bool, codec: RecordCodec, wire: WireCodec, engine: Engine
) -> None:
    """An ad to a subject: compliant; the subject opts out on the consent stream; the next
    ad (the shape now compiled: the native path) is a `targeting_opted_out` finding."""
    subject = "f" * 64
    pair = Pair(codec, engine)

    def ad(offset: int) -> Message:
        encoded = wire.encode("DataAccessEvent", ad_event(subject))
        return Message("raw", 0, offset, subject.encode(), encoded)

    assert not pair.process([], [ad(0)], T0).violations
    change = Message(
        "consent", 0, 0, subject.encode(), wire.encode("ConsentChange", opt_out(subject))
    )
    result = pair.process([change], [ad(1)], T0)
    assert result.native == 1
    assert [rule for rule, *_ in result.violations] == ["targeting_opted_out"]


def test_a_reloaded_policy_gets_a_native_path_of_its_own(
    native: bool, codec: RecordCodec, wire: WireCodec
) -> None:
    """After a reload the outputs carry the new version, from the new engine's own plans."""
    policy = load_policy()
    engines = [Engine(policy), Engine(dataclasses.replace(policy, version="reloaded"))]
    in_force = engines[0]
    state = TableState({}, {})
    processor = BatchProcessor(codec, TOPICS, state, lambda: in_force, CHANGELOGS)
    messages = [
        Message("raw", 0, i, b"s", wire.encode("DataAccessEvent", access_event())) for i in range(3)
    ]
    for engine in engines:
        in_force = engine
        result = processor.process([], messages, T0)
        assert result.native == len(messages) - 1  # the first one compiles the shape
        assert {
            wire.decode(o.value or b"").record["policy_version"]
            for o in result.outputs
            if o.topic == "tagged"
        } == {engine.policy_version}


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"destination": {"kind": "CLIENT", "name": "data-broker"}}, "unregistered_recipient"),
        ({"record_count": 50_000}, "bulk_access"),
    ],
)
def test_rules_15_and_17_are_found_on_the_native_path(
    native: bool, codec: RecordCodec, wire: WireCodec, fields: dict[str, Any], rule: str
) -> None:
    """After the first sight of the shape, the native path finds rules 15 and 17 itself, with
    the Python path's bytes (the provision record of a third party included)."""
    events = [
        access_event(
            service="hotpepper-beauty",
            purpose="service.points_program",
            elements=["user.account.id", "user.behavior.usage_history"],
            subject_id=f"{i:064x}",
            **fields,
        )
        for i in range(10)
    ]
    messages = [
        Message("raw", 0, i, e["subject_id"].encode(), wire.encode("DataAccessEvent", e))
        for i, e in enumerate(events)
    ]
    result = Pair(codec, Engine(load_policy())).process([], messages, T0)
    assert result.native == len(messages) - 1
    assert {r for r, *_ in result.violations} == {rule}


def test_an_art31_case_goes_to_python_and_both_ways_agree(
    native: bool, codec: RecordCodec, wire: WireCodec
) -> None:
    """Informative data to a recipient that links it: the link consent decides the provision
    record, so the native path leaves the event to Python; with and without the consent the
    outputs are the Python path's (rule 16 only without it)."""
    consenting, other = "c" * 64, "d" * 64
    change = {
        "subject_id": consenting,
        "occurred_at": T0 - timedelta(minutes=1),
        "targeting_opt_out": False,
        "publication_consent": False,
        "payroll_other_use_consent": False,
        "third_party_link_consent": True,
    }
    consent = [Message("consent", 0, 0, consenting.encode(), wire.encode("ConsentChange", change))]
    linked = {"kind": "AD_PLATFORM", "name": "google-ads"}
    raw = [
        Message(
            "raw",
            0,
            i,
            subject.encode(),
            wire.encode("DataAccessEvent", {**ad_event(subject), "destination": linked}),
        )
        for i, subject in enumerate((consenting, other, consenting, other))
    ]
    result = Pair(codec, Engine(load_policy())).process(consent, raw, T0)
    assert result.native == 0
    assert [r for r, *_ in result.violations] == ["linkable_provision_without_consent"]
    assert sum(result.violations.values()) == 2
