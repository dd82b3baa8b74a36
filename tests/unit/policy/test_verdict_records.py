"""Verdicts as records: the pinned JSON shape, Avro records that fit the schemas exactly,
deterministic violation ids."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from dua_policy import Engine, MemoryState, Verdict, load_policy, violation_id
from dua_schemas import TAGGED_ACCESS_EVENT, VIOLATION, DataAccessEvent, WireCodec

PINNED_KEYS = [
    "event_id",
    "policy_version",
    "service",
    "purpose",
    "purpose_category",
    "purpose_known",
    "elements",
    "violations",
    "occurred_at",
    "actor",
    "subject_id",
    "operation",
    "processing",
    "destination",
    "origin_service",
    "consent",
    "record_count",
    "trace_id",
    "attributes",
]
PROCESSED_AT = datetime(2026, 11, 1, 10, 0, 1, 500000, tzinfo=UTC)


def _violating(judge: Callable[..., Verdict]) -> Verdict:
    """An event with several findings, an unknown element and every optional field set."""
    return judge(
        service="carsensor",
        purpose="marketing.campaign_notice",
        destination="CLIENT",
        elements=["user.contact.email", "user.financial.salary", "user.unheard.of"],
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        attributes={"endpoint": "/export", "店舗": "渋谷店"},
        origin_service="jalan",
        record_count=40,
    )


def test_json_shape_is_pinned(judge: Callable[..., Verdict]) -> None:
    """The JSON form has exactly the pinned keys, in order, with the pinned element shape."""
    data = _violating(judge).to_json()
    assert list(data) == PINNED_KEYS
    assert data["elements"][0] == {
        "code": "user.contact.email",
        "category": "personal",
        "sensitivity": "normal",
    }
    assert data["elements"][2] == {
        "code": "user.unheard.of",
        "category": "unknown",
        "sensitivity": None,
    }
    assert list(data["violations"][0]) == [
        "violation_id",
        "rule",
        "severity",
        "mode",
        "elements",
        "message",
    ]
    assert data["occurred_at"] == "2026-11-01T10:00:00.000Z"
    assert data["purpose_category"] == "marketing"
    assert data["purpose_known"] is True


def test_purpose_category_is_null_when_purpose_missing_or_unknown(
    judge: Callable[..., Verdict],
) -> None:
    """No purpose or an unknown purpose: `purpose_category` null, `purpose_known` false."""
    for purpose in (None, "marketing.telesales"):
        data = judge(purpose=purpose).to_json()
        assert data["purpose_category"] is None
        assert data["purpose_known"] is False


def test_tagged_record_fits_the_avro_schema(judge: Callable[..., Verdict]) -> None:
    """The TaggedAccessEvent record survives an encode/decode round trip unchanged."""
    codec = WireCodec()
    record = _violating(judge).tagged(PROCESSED_AT)
    decoded = codec.decode(codec.encode(TAGGED_ACCESS_EVENT, record), TAGGED_ACCESS_EVENT)
    expected = {**record, "processed_at": PROCESSED_AT.replace(microsecond=500000)}
    assert decoded.record == expected
    assert len(decoded.record["violations"]) >= 3


def test_violation_records_fit_the_avro_schema(judge: Callable[..., Verdict]) -> None:
    """Every Violation record survives an encode/decode round trip unchanged."""
    codec = WireCodec()
    verdict = _violating(judge)
    records = verdict.violation_records(PROCESSED_AT)
    assert [r["rule"] for r in records] == [f.rule for f in verdict.violations]
    for record in records:
        decoded = codec.decode(codec.encode(VIOLATION, record), VIOLATION)
        assert decoded.record == record
        assert record["policy_version"] == verdict.policy_version


def test_clean_verdict_has_no_violation_records(judge: Callable[..., Verdict]) -> None:
    """An event without findings becomes a tagged record with an empty violations list."""
    verdict = judge(elements=["user.account.id"])
    assert verdict.violation_records(PROCESSED_AT) == []
    assert verdict.tagged(PROCESSED_AT)["violations"] == []


def test_violation_ids_are_deterministic(
    engine: Engine, make_event: Callable[..., DataAccessEvent]
) -> None:
    """Same event, rule and policy version: the same id, from any engine instance."""
    event = make_event(purpose="marketing.campaign_notice", destination="CLIENT")
    first = engine.classify(event, MemoryState())
    second = Engine(load_policy()).classify(event, MemoryState())
    assert [f.violation_id for f in first.violations] == [f.violation_id for f in second.violations]
    finding = first.violations[0]
    assert finding.violation_id == violation_id(
        event["event_id"], finding.rule, engine.policy_version
    )
    assert len({f.violation_id for f in first.violations}) == len(first.violations)


def test_violation_id_depends_on_event_rule_and_version() -> None:
    """Changing any of the three inputs changes the id."""
    base = violation_id("e1", "rule_a", "1+abc")
    assert base != violation_id("e2", "rule_a", "1+abc")
    assert base != violation_id("e1", "rule_b", "1+abc")
    assert base != violation_id("e1", "rule_a", "1+abd")
    assert len(base) == 32
    assert int(base, 16) >= 0


def test_every_verdict_carries_the_policy_version(
    engine: Engine, judge: Callable[..., Verdict]
) -> None:
    """The verdict's policy version is the engine's: declared version plus content hash."""
    assert judge().policy_version == engine.policy_version == engine.policy.version
