"""A group of violations as a Slack-compatible message: `{"text": ..., "blocks": [...]}`.

`text` is the fallback shown in notifications and by webhooks that ignore blocks. Only codes
and identifiers of the audit trail go out (rule, service, purpose, element codes, event ids):
never subject ids, even pseudonymous ones, nor actor ids — the channel is wider than the
audit team, and the event id is enough to look the rest up in ClickHouse.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from dua_stream.notifier.grouping import ViolationGroup

SEVERITY_MARK: Final[dict[str, str]] = {
    "critical": ":rotating_light:",
    "high": ":red_circle:",
    "medium": ":large_orange_circle:",
    "low": ":large_blue_circle:",
}
# Slack's limits: 150 characters in a header, 3000 in a section's text.
_HEADER_MAX: Final = 150
_SECTION_MAX: Final = 3000


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment is not None else "?"


def _sample_line(violation: Mapping[str, Any]) -> str:
    elements = ", ".join(f"`{code}`" for code in violation["elements"]) or "none"
    purpose = violation.get("purpose") or "no purpose"
    return (
        f"• event `{violation['event_id']}`: purpose `{purpose}` → "
        f"`{violation['destination_kind']}`, elements {elements}. {violation['message']}"
    )


def summary_line(group: ViolationGroup) -> str:
    """One line saying what happened, where, how often (the notification text)."""
    rule, service = group.key
    noun = "violation" if group.count == 1 else "violations"
    span = _when(group.first_detected)
    if group.count > 1:
        span = f"{span} to {_when(group.last_detected)}"
    return (
        f"{SEVERITY_MARK.get(group.severity, '')} [{group.severity.upper()}] {rule} in "
        f"{service}: {group.count} {noun} ({span})"
    ).strip()


def render(group: ViolationGroup) -> dict[str, Any]:
    """The webhook payload for one group."""
    rule, service = group.key
    fields = [
        f"*Rule*\n`{rule}`",
        f"*Severity*\n{group.severity}",
        f"*Service*\n`{service}`",
        f"*Violations*\n{group.count}",
        f"*Policy version*\n{', '.join(sorted(group.policy_versions))}",
        f"*Detected*\n{_when(group.first_detected)}",
    ]
    samples = "\n".join(_sample_line(v) for v in group.samples)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _clip(f"[{group.severity.upper()}] {rule} in {service}", _HEADER_MAX),
            },
        },
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(samples, _SECTION_MAX)}},
    ]
    hidden = group.count - len(group.samples)
    context = f"rule `{rule}`, service `{service}` in the violations table"
    context = f"{hidden} more not listed; see {context}" if hidden > 0 else f"details: {context}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": summary_line(group), "blocks": blocks}
