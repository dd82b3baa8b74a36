"""The demo's summary says, for every rule the simulator planted, whether found == planted."""

from __future__ import annotations

import dataclasses
from collections import Counter

from dua.demo.summary import DemoSummary, render


def _summary(violations: list[tuple[str, str, int]], planted: dict[str, int]) -> DemoSummary:
    return DemoSummary(
        emitted=10,
        consents=2,
        landed_events=10,
        landed_rows=10,
        rejected=0,
        purpose_by_category=[],
        violations=violations,
        planted=Counter(planted),
        latency_p50_ms=1.0,
        latency_p99_ms=2.0,
        send_seconds=1.0,
    )


def test_found_equal_to_planted_for_every_rule_is_ok() -> None:
    """Every planted rule found exactly as often as planted: [OK]."""
    text = render(_summary([("targeting_opted_out", "high", 3)], {"targeting_opted_out": 3}))
    assert "found == planted for every planted rule [OK]" in text


def test_a_missed_opt_out_violation_is_a_mismatch() -> None:
    """One targeted ad to an opted-out subject missed: the summary names the rule."""
    text = render(_summary([("targeting_opted_out", "high", 2)], {"targeting_opted_out": 3}))
    assert "MISMATCH (targeting_opted_out 2/3)" in text


def test_the_appi_provision_records_are_counted() -> None:
    """The run's APPI provision records and Art. 31 confirmations are printed when known."""
    summary = _summary([], {})
    assert "APPI provision records" not in render(summary)
    text = render(dataclasses.replace(summary, appi_records=(1234, 5, 7)))
    assert (
        "APPI provision records (Art. 29): 1,234; informative data to recipients that link it "
        "(Art. 31): 5 confirmed, 7 without consent"
    ) in text
