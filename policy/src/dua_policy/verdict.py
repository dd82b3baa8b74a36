"""The outcome of classifying one event, and the records it becomes on the wire."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, NamedTuple

from dua_schemas import DataAccessEvent, to_json

VIOLATION_ID_LENGTH: Final = 32  # hex digits of sha256: 128 bits, collision-free in practice


# a tagged event's `provision` when the verdict has none (see `dua_policy.provision`)
NO_PROVISION_RECORD: Final[dict[str, Any]] = {
    "third_party": False,
    "recipient_registered": False,
    "recipient_address": None,
    "recipient_representative": None,
    "basis": None,
    "linkable": False,
    "link_consent": False,
}


class TaggedElement(NamedTuple):
    """An element of the event with its category (`unknown` when the catalog lacks it)."""

    code: str
    category: str
    sensitivity: str | None


def violation_id(event_id: str, rule: str, policy_version: str) -> str:
    """Deterministic: the same event, rule and policy version give the same id."""
    digest = hashlib.sha256(f"{event_id}\x1f{rule}\x1f{policy_version}".encode())
    return digest.hexdigest()[:VIOLATION_ID_LENGTH]


# Finding and Verdict are NamedTuples, not frozen dataclasses: one Verdict is made per event,
# and a frozen dataclass's `__init__` sets each field through `object.__setattr__` (~1 µs).
class Finding(NamedTuple):
    """One rule broken by one event."""

    violation_id: str
    rule: str
    severity: str
    mode: str  # `shadow` findings are recorded and marked, never alerted
    elements: tuple[str, ...]
    message: str

    def summary(self) -> dict[str, Any]:
        """The finding as a ViolationSummary record (inside TaggedAccessEvent)."""
        return {
            "violation_id": self.violation_id,
            "rule": self.rule,
            "severity": self.severity,
            "mode": self.mode,
            "elements": list(self.elements),
            "message": self.message,
        }


class Verdict(NamedTuple):
    """An event with its categories and findings under one policy version.

    `event` is the record as given (not copied): callers must not change it afterwards.
    """

    event: DataAccessEvent
    policy_version: str
    purpose_category: str | None
    purpose_known: bool
    elements: tuple[TaggedElement, ...]
    violations: tuple[Finding, ...]
    # an opted-out rule did not fire on it: a consent change dated before the access that
    # arrives later may still make it a violation (the processor keeps such accesses)
    awaits_consent: bool = False
    # the APPI provision decision (`dua_policy.provision`): the tagged event's `provision`
    provision: Mapping[str, Any] = NO_PROVISION_RECORD  # a dict, shared: never changed

    @property
    def alerts(self) -> tuple[Finding, ...]:
        """The findings of active rules (shadow-mode findings are only recorded)."""
        return tuple(f for f in self.violations if f.mode == "active")

    def tagged(self, processed_at: datetime) -> dict[str, Any]:
        """A TaggedAccessEvent record."""
        event = self.event
        return {
            "event_id": event["event_id"],
            "occurred_at": event["occurred_at"],
            "processed_at": processed_at,
            "policy_version": self.policy_version,
            "service": event["service"],
            "actor": dict(event["actor"]),
            "subject_id": event["subject_id"],
            "purpose": event["purpose"],
            "purpose_category": self.purpose_category,
            "purpose_known": self.purpose_known,
            "elements": [
                {"code": e.code, "category": e.category, "sensitivity": e.sensitivity}
                for e in self.elements
            ],
            "operation": event["operation"],
            "processing": event["processing"],
            "destination": dict(event["destination"]),
            "origin_service": event["origin_service"],
            "consent": dict(event["consent"]),
            "record_count": event["record_count"],
            "trace_id": event["trace_id"],
            "attributes": dict(event["attributes"]),
            "violations": [f.summary() for f in self.violations],
            "provision": dict(self.provision),
        }

    def violation_records(self, detected_at: datetime, late_ms: int = 0) -> list[dict[str, Any]]:
        """One Violation record per finding; `late_ms`: found that long after the access was
        judged, by a consent change that arrived late (0: found on time)."""
        event = self.event
        return [
            {
                "violation_id": f.violation_id,
                "event_id": event["event_id"],
                "occurred_at": event["occurred_at"],
                "detected_at": detected_at,
                "policy_version": self.policy_version,
                "rule": f.rule,
                "severity": f.severity,
                "mode": f.mode,
                "service": event["service"],
                "actor_kind": event["actor"]["kind"],
                "actor_id": event["actor"]["id"],
                "subject_id": event["subject_id"],
                "purpose": event["purpose"],
                "purpose_category": self.purpose_category,
                "destination_kind": event["destination"]["kind"],
                "elements": list(f.elements),
                "message": f.message,
                "trace_id": event["trace_id"],
                "detected_late_ms": late_ms,
            }
            for f in self.violations
        ]

    def to_json(self) -> dict[str, Any]:
        """The pinned JSON form: verdict fields first, then the event's other fields."""
        event = self.event
        return {
            "event_id": event["event_id"],
            "policy_version": self.policy_version,
            "service": event["service"],
            "purpose": event["purpose"],
            "purpose_category": self.purpose_category,
            "purpose_known": self.purpose_known,
            "elements": [
                {"code": e.code, "category": e.category, "sensitivity": e.sensitivity}
                for e in self.elements
            ],
            "violations": [f.summary() for f in self.violations],
            **to_json(
                {
                    "occurred_at": event["occurred_at"],
                    "actor": event["actor"],
                    "subject_id": event["subject_id"],
                    "operation": event["operation"],
                    "processing": event["processing"],
                    "destination": event["destination"],
                    "origin_service": event["origin_service"],
                    "consent": event["consent"],
                    "record_count": event["record_count"],
                    "trace_id": event["trace_id"],
                    "attributes": event["attributes"],
                }
            ),
        }
