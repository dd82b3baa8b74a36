"""Throughput of the compiled policy engine on a realistic mix of access events.

Run: `.venv/bin/python bench/classify.py [--events N] [--repeat R]`, or call `run(n)`.

Events are generated with a fixed seed from the services and purposes of DOMAIN.md, about a
fifth of them breaking a rule. In the same run, a baseline loop only Avro-decodes and copies
the same events: the ratio says how the engine compares with the cheapest work the stream
processor does on every message anyway.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from dua_policy import Engine, MemoryState, load_policy
from dua_schemas import DATA_ACCESS_EVENT, DataAccessEvent, WireCodec, event_from_json

SEED = 20261101
SUBJECTS = 20_000
T0 = datetime(2026, 11, 1, tzinfo=UTC)

PAYROLL = ["user.financial.salary", "user.financial.bank_account"]
PAIR: Final = "pair"  # marks the first access of a re-identification pair
VIOLATING_SHARE: Final = 0.2

# (weight, service, purpose, elements, extra fields): how services of the seed use data.
CLEAN: list[tuple[int, str, str | None, list[str], dict[str, Any]]] = [
    (8, "zexy-enmusubi", "service.user_messaging", ["user.account.id", "user.content.message"], {}),
    (
        5,
        "hotpepper-beauty",
        "service.inquiry_response",
        ["user.name", "user.contact.email", "user.behavior.usage_history"],
        {},
    ),
    (
        5,
        "hotpepper-beauty",
        "improvement.support_quality",
        ["user.content.review", "user.content.support_feedback"],
        {"processing": "STATISTICAL"},
    ),
    (
        4,
        "carsensor",
        "publication.rankings_trends",
        ["user.behavior.usage_history", "user.demographic.attributes"],
        {"processing": "STATISTICAL", "destination": {"kind": "PUBLIC", "name": "carsensor-media"}},
    ),
    (
        5,
        "jalan",
        "research.surveys",
        ["user.account.id", "user.contact.email", "user.content.survey_answer"],
        {},
    ),
    (
        8,
        "hotpepper-gourmet",
        "research.profiling",
        ["user.behavior.usage_history", "user.behavior.browsing_history"],
        {"processing": "STATISTICAL"},
    ),
    (
        10,
        "hotpepper-gourmet",
        "marketing.targeted_advertising",
        ["user.behavior.browsing_history", "user.device.ad_id"],
        {"destination": {"kind": "AD_PLATFORM", "name": "ad-network"}},
    ),
    (
        6,
        "hotpepper-gourmet",
        "service.points_program",
        ["user.account.id", "user.behavior.usage_history"],
        {"destination": {"kind": "CLIENT", "name": "partner-salon"}},
    ),
    (
        6,
        "rikunabi",
        "service.identity_verification",
        ["user.account.id", "user.name", "user.contact.phone"],
        {},
    ),
    (
        6,
        "rikunabi",
        "marketing.campaign_notice",
        ["user.account.id", "user.name", "user.contact.email"],
        {},
    ),
    (
        4,
        "airwork-payroll",
        "service.payroll_transfer",
        ["user.account.id", "user.name", *PAYROLL],
        {"destination": {"kind": "FINANCIAL_INSTITUTION", "name": "bank"}},
    ),
    (
        2,
        "airwork-payroll",
        "service.payroll_transfer",
        ["user.account.id", "user.name", "user.financial.salary"],
        {"destination": {"kind": "EMPLOYER", "name": "employer-co"}},
    ),
    (
        2,
        "airwork-payroll",
        "improvement.service_development",
        PAYROLL,
        {"processing": "STATISTICAL"},
    ),
    (
        3,
        "jalan",
        "improvement.service_development",
        ["user.behavior.activity_log", "user.device.network"],
        {"origin_service": "carsensor", "processing": "STATISTICAL"},
    ),
    (
        2,
        "rikunabi",
        "fraud_prevention.investigation",
        ["user.account.id", "user.behavior.activity_log", "user.device.network"],
        {"operation": "JOIN"},
    ),
    (
        4,
        "hotpepper-beauty",
        "improvement.support_quality",
        ["user.behavior.usage_history", "user.content.review"],
        {"processing": "PSEUDONYMIZED"},
    ),
]
# a pseudonymized analysis, then a look-up of who it was: the second access of a pair
REIDENTIFY: Final = {
    "purpose": "marketing.campaign_notice",
    "elements": ["user.account.id", "user.name"],
    "processing": "RAW",
}
VIOLATING: list[tuple[int, str, str | None, list[str], dict[str, Any]]] = [
    (2, "jalan", None, ["user.account.id", "user.behavior.usage_history"], {}),
    (2, "rikunabi", "marketing.campaign_notice", ["user.name", "user.financial.salary"], {}),
    (
        1,
        "airwork-payroll",
        "service.payroll_transfer",
        ["user.name", "user.behavior.usage_history"],
        {"destination": {"kind": "EMPLOYER", "name": "employer-co"}},
    ),
    (
        2,
        "hotpepper-gourmet",
        "marketing.targeted_advertising",
        ["user.device.ad_id", "user.contact.email"],
        {"destination": {"kind": "AD_PLATFORM", "name": "ad-network"}},
    ),
    (
        2,
        "hotpepper-gourmet",
        "marketing.targeted_advertising",
        ["user.device.ad_id"],
        {"consent": {"targeting_opt_out": True}},
    ),
    (1, "carsensor", "publication.rankings_trends", ["user.content.review"], {"processing": "RAW"}),
    (
        2,
        "hotpepper-gourmet",
        "research.profiling",
        ["user.behavior.browsing_history"],
        {"processing": "RAW"},
    ),
    (
        2,
        "rikunabi",
        "marketing.campaign_notice",
        ["user.contact.email"],
        {"destination": {"kind": "CLIENT", "name": "travel-agency"}},
    ),
    (
        1,
        "jalan",
        "research.profiling",
        ["user.behavior.usage_history"],
        {"origin_service": "partner-airline", "processing": "STATISTICAL"},
    ),
    (1, "zexy-enmusubi", "improvement.service_development", ["user.content.message"], {}),
    (
        1,
        "hotpepper-beauty",
        "improvement.support_quality",
        ["user.content.review", "user.content.photo"],
        {},
    ),
    (
        2,
        "rikunabi",
        "service.identity_verification",
        ["user.account.id", "user.behavior.browsing_history"],
        {},
    ),
    (
        1,
        "jalan",
        "research.surveys",
        ["user.contact.email", "user.behavior.browsing_history"],
        {"operation": "JOIN"},
    ),
    (
        2,
        "hotpepper-beauty",
        "improvement.support_quality",
        ["user.behavior.usage_history"],
        {"processing": "PSEUDONYMIZED", PAIR: True},
    ),
]


def generate(n: int, seed: int = SEED) -> list[DataAccessEvent]:
    """`n` validated access events; about 20% break a rule of the default policy."""
    rng = random.Random(seed)
    clean_weights = [w for w, *_ in CLEAN]
    bad_weights = [w for w, *_ in VIOLATING]
    events: list[DataAccessEvent] = []
    pending: dict[str, Any] | None = None  # the second access of a re-identification pair
    for i in range(n):
        if pending is not None:
            fields, pending = pending, None
        else:
            bad = rng.random() < VIOLATING_SHARE
            _, service, purpose, elements, extra = rng.choices(
                VIOLATING if bad else CLEAN, bad_weights if bad else clean_weights
            )[0]
            fields = {
                "service": service,
                "actor": {"kind": "EMPLOYEE", "id": f"{service}-{rng.randrange(40)}"},
                "subject_id": f"{rng.randrange(SUBJECTS):064x}",
                "elements": elements,
                "purpose": purpose,
                "record_count": rng.randrange(1, 50),
                **extra,
            }
            if fields.pop(PAIR, False):
                pending = {**fields, **REIDENTIFY}
        fields["event_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        fields["occurred_at"] = (T0 + timedelta(milliseconds=20 * i)).isoformat()
        events.append(event_from_json(fields))
    return events


def _rate(count: int, work: Callable[[], None], repeat: int) -> float:
    """Events per second of the fastest of `repeat` runs of `work` over `count` events."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return count / best


def run(n: int = 100_000, repeat: int = 3) -> dict[str, Any]:
    """Measure; returns the figures (events/s) and the share of violating events."""
    events = generate(n)
    codec = WireCodec()
    payloads = [codec.encode(DATA_ACCESS_EVENT, dict(e)) for e in events]
    engine = Engine(load_policy())
    decoded: list[DataAccessEvent] = [codec.decode(p).record for p in payloads]  # type: ignore[misc]
    processed_at = datetime.now(UTC)

    def baseline() -> None:
        sink = []
        for payload in payloads:
            sink.append(dict(codec.decode(payload, DATA_ACCESS_EVENT).record))

    def classify() -> None:
        state = MemoryState()
        for event in decoded:
            engine.classify(event, state)

    def classify_and_records() -> None:
        state = MemoryState()
        for event in decoded:
            verdict = engine.classify(event, state)
            verdict.tagged(processed_at)
            verdict.violation_records(processed_at)

    state = MemoryState()
    violating = sum(1 for e in decoded if engine.classify(e, state).violations)
    figures = {
        "events": n,
        "violating_share": round(violating / n, 3),
        "baseline_decode_copy_per_s": round(_rate(n, baseline, repeat)),
        "engine_classify_per_s": round(_rate(n, classify, repeat)),
        "engine_classify_and_records_per_s": round(_rate(n, classify_and_records, repeat)),
    }
    figures["engine_to_baseline_ratio"] = round(
        figures["engine_classify_per_s"] / figures["baseline_decode_copy_per_s"], 2
    )
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    """Print the figures, one per line, then as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    figures = run(args.events, args.repeat)
    print(f"events:                           {figures['events']}")
    print(f"violating share:                  {figures['violating_share']:.1%}")
    print(
        f"baseline (Avro decode + copy):    {figures['baseline_decode_copy_per_s']:>10,} events/s"
    )
    print(f"engine (classify):                {figures['engine_classify_per_s']:>10,} events/s")
    print(
        f"engine (classify + Avro records): "
        f"{figures['engine_classify_and_records_per_s']:>10,} events/s"
    )
    print(f"engine / baseline:                {figures['engine_to_baseline_ratio']:.2f}x")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
