"""The Java, TypeScript and Go SDKs end to end: their events go through `dua run processor` and
`dua run sink` into ClickHouse and get the verdicts the Python SDK's identical events get.

Per SDK (`scripted_program`), both it and the Python SDK emit the same cases (compliant ones
and ones breaking different rules) into one pipeline; the events differ only in their ids and
in an attribute naming the SDK.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.integration.sdk_service import ScriptedProgram

from .pipeline_harness import Pipeline, running_pipeline

pytestmark = pytest.mark.integration

SERVICE = "jalan"
VERDICTS_TIMEOUT_S = 90.0
# case -> the Python SDK's `emit` arguments (the scripted services take the same names)
CASES: dict[str, dict[str, Any]] = {
    "compliant-inquiry": {
        "elements": ["user.name", "user.contact.email"],
        "purpose": "service.inquiry_response",
    },
    "compliant-review": {
        "elements": ["user.content.review"],
        "purpose": "improvement.support_quality",
        "processing": "STATISTICAL",
    },
    "undeclared-purpose": {"elements": ["user.name"], "purpose": "sales.cold_calls"},
    "element-not-permitted": {
        "elements": ["user.contact.email"],
        "purpose": "service.points_program",
    },
    "opted-out-targeting": {
        "elements": ["user.behavior.browsing_history", "user.device.ad_id"],
        "purpose": "marketing.targeted_advertising",
        "destination": "AD_PLATFORM",
        "destination_name": "ad-network",
        "targeting_opt_out": True,
    },
    "raw-profiling": {
        "elements": ["user.behavior.usage_history", "user.behavior.browsing_history"],
        "purpose": "research.profiling",
    },
    "message-content": {
        "elements": ["user.content.message"],
        "purpose": "marketing.targeted_advertising",
    },
}


def emit_from_python(pipeline: Pipeline, events: list[dict[str, Any]]) -> None:
    """The Python SDK emits the same `events`, then flushes."""
    client = pipeline.client_factory()(SERVICE)
    try:
        for event in events:
            fields = dict(event)
            fields["occurred_at"] = datetime.fromisoformat(fields["occurred_at"])
            client.emit(fields.pop("elements"), fields.pop("purpose"), **fields)
        assert client.flush(30) == 0
    finally:
        client.close()


def test_sdk_events_get_the_verdicts_of_the_python_sdk_events(
    scripted_program: ScriptedProgram, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Every case lands from both SDKs, with the same violated rules for each."""
    sdk = scripted_program.language.name
    run_id = uuid.uuid4().hex[:12]
    occurred_at = datetime.now(UTC).replace(microsecond=0).isoformat()

    def events(sdk: str) -> list[dict[str, Any]]:
        return [
            {
                **case,
                "subject": f"member-{index}",
                "event_id": str(uuid.uuid4()),
                "occurred_at": occurred_at,
                "attributes": {"sim_run": run_id, "sdk": sdk, "case": name},
            }
            for index, (name, case) in enumerate(CASES.items())
        ]

    with running_pipeline(kafka_bootstrap, tmp_path) as pipeline:
        emit_from_python(pipeline, events("python"))
        scripted_program.run_script(
            pipeline.bootstrap,
            pipeline.settings.topic_raw,
            tmp_path / f"{sdk}-spool",
            pipeline.key,
            SERVICE,
            events(sdk),
        )
        assert pipeline.wait_landed(run_id, 2 * len(CASES)).events == 2 * len(CASES)
        verdicts = settled_verdicts(pipeline, run_id)

    python = {case: rules for by, case, rules in verdicts if by == "python"}
    other = {case: rules for by, case, rules in verdicts if by == sdk}
    assert set(python) == set(other) == set(CASES)
    assert python["compliant-inquiry"] == []
    assert python["compliant-review"] == []
    assert sum(1 for rules in python.values() if rules) >= len(CASES) - 2, python
    assert other == python


def settled_verdicts(pipeline: Pipeline, run_id: str) -> list[tuple[str, str, list[str]]]:
    """The run's (sdk, case, rules) once two reads five seconds apart agree: the violations
    are written by the sink after the events, from their own topic."""
    deadline = time.monotonic() + VERDICTS_TIMEOUT_S
    previous: list[tuple[Any, ...]] | None = None
    while True:
        rows = pipeline.query("run_verdicts", run=run_id)
        if rows == previous and any(row[2] for row in rows):
            return [(str(sdk), str(case), list(rules)) for sdk, case, rules in rows]
        if time.monotonic() > deadline:
            pytest.fail(f"the verdicts did not settle within {VERDICTS_TIMEOUT_S:.0f} s: {rows}")
        previous = rows
        time.sleep(5.0)
