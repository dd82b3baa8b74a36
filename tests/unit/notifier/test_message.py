"""A group renders as a Slack-compatible payload that leaks no subject or actor ids."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from dua_stream.notifier import Grouper, Position, render
from dua_stream.notifier.testing import ManualClock

Make = Callable[..., dict[str, Any]]


def _group_of(clock: ManualClock, records: list[dict[str, Any]]) -> Any:
    grouper = Grouper(30.0, clock)
    for offset, record in enumerate(records):
        grouper.add(Position("t", 0, offset), record)
    (group,) = grouper.due(force=True)
    return group


def test_payload_has_text_and_blocks(clock: ManualClock, violation: Make) -> None:
    """The fallback text names severity, rule, service and count; blocks carry the details."""
    payload = render(_group_of(clock, [violation() for _ in range(8)]))
    assert set(payload) == {"text", "blocks"}
    assert "[CRITICAL] payroll_data_misuse in rikunabi: 8 violations" in payload["text"]
    kinds = [block["type"] for block in payload["blocks"]]
    assert kinds == ["header", "section", "section", "context"]
    assert "3 more not listed" in payload["blocks"][-1]["elements"][0]["text"]
    samples = payload["blocks"][2]["text"]["text"]
    assert samples.count("• event") == 5
    assert "`user.financial.salary`" in samples


def test_no_subject_or_actor_ids_leave(clock: ManualClock, violation: Make) -> None:
    """Pseudonymous subject ids and actor ids stay out of the channel."""
    payload = json.dumps(render(_group_of(clock, [violation()])))
    assert "pseudo-subject-abc" not in payload
    assert "emp-secret-7" not in payload


def test_single_violation_reads_singular(clock: ManualClock, violation: Make) -> None:
    """One violation says 'violation' and points at the violations table for details."""
    payload = render(_group_of(clock, [violation(purpose=None, elements=[])]))
    assert ": 1 violation (" in payload["text"]
    assert "no purpose" in payload["blocks"][2]["text"]["text"]
    assert payload["blocks"][-1]["elements"][0]["text"].startswith("details:")


def test_long_text_is_clipped_to_slack_limits(clock: ManualClock, violation: Make) -> None:
    """A huge message field is clipped so the webhook does not refuse the payload."""
    payload = render(_group_of(clock, [violation(message="x" * 5000) for _ in range(5)]))
    assert len(payload["blocks"][2]["text"]["text"]) <= 3000
    assert len(payload["blocks"][0]["text"]["text"]) <= 150
