"""The bench's webhook receiver reads a notifier post and times the alert of each rule."""

from __future__ import annotations

import json

from bench.webhook_receiver import Post, _post, latencies_ms, percentile


def _body(text: str, event: str) -> bytes:
    sample = {"type": "section", "text": {"type": "mrkdwn", "text": f"• event `{event}`: x"}}
    return json.dumps({"text": text, "blocks": [sample]}).encode()


def test_a_post_gives_its_severity_rule_service_and_first_event() -> None:
    """The headline names severity, rule and service; the first sample line the event."""
    post = _post(10.0, _body("🔴 [CRITICAL] payroll_data_misuse in rikunabi: 3 violations", "e-1"))
    assert post == Post(10.0, "critical", "payroll_data_misuse/rikunabi", "e-1")
    assert _post(1.0, b"not json") == Post(1.0, "", "", "")


def test_the_alert_is_each_rule_and_services_first_post() -> None:
    """Later posts of the same rule and service (the grouped rest of a burst) are left out."""
    posts = [
        Post(31.0, "critical", "r/s", "late"),
        Post(1.5, "critical", "r/s", "first"),
        Post(2.0, "critical", "r2/s", "other"),
        Post(3.0, "high", "r3/s", "high"),
    ]
    occurred = {"first": 1_000, "late": 1_100, "other": 1_000, "high": 0}
    assert latencies_ms(posts, occurred, "critical") == [500.0, 1_000.0, 29_900.0]
    assert latencies_ms(posts, occurred, "critical", first_only=True) == [500.0, 1_000.0]
    assert percentile([500.0, 1_000.0], 0.99) == 1_000.0
    assert percentile([], 0.5) is None
