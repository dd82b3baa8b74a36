"""`Engine`: classifies access events against a compiled policy. Pure: no I/O, no clock.

`classify` expects a validated record (`dua_schemas.validate_event`); the processor and the
CLI validate before they call it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, cast

from dua_schemas import ConsentChange, DataAccessEvent
from dua_stream.policy.compiler import Compiler, RulePlan, Shape
from dua_stream.policy.messages import (
    describe_destination,
    describe_elements,
    describe_purpose,
    describe_window,
)
from dua_stream.policy.model import Policy
from dua_stream.policy.state import RuleState
from dua_stream.policy.stateful import observe_reidentification, opted_out, record_consent
from dua_stream.policy.verdict import Finding, TaggedElement, Verdict, violation_id

_NO_FINDINGS: Final[tuple[Finding, ...]] = ()


class Engine:
    """The policy, compiled once; `classify` one event at a time, in order per subject."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.policy_version = policy.version
        self._compiler = Compiler(policy)
        self._catalog = self._compiler.leaves
        self._tags = {
            e.code: TaggedElement(e.code, e.category, e.sensitivity) for e in policy.elements
        }
        self._purposes = self._compiler.purposes
        self._services = self._compiler.services
        self._flags = self._compiler.consent_flags
        self._window = policy.reidentification_window

    def apply_consent(self, change: ConsentChange, state: RuleState) -> None:
        """Learn a subject's consent choices from the consent stream."""
        record_consent(change, state)

    def classify(self, event: DataAccessEvent, state: RuleState) -> Verdict:
        """The verdict on one event; stateful rules read and update `state`."""
        purpose = event["purpose"]
        known = self._purposes.get(purpose) if purpose is not None else None
        if known is not None or purpose is None:
            purpose_shape = purpose
        else:
            purpose_shape = self._compiler.unknown_purpose_shape(purpose)
        service = event["service"]
        origin_service = event["origin_service"]
        origin = origin_service or service
        consent = cast(Mapping[str, bool], event["consent"])
        shape = Shape(
            purpose_shape,
            service if service in self._services else None,
            origin if origin in self._services else None,
            origin_service is not None and origin_service != service,
            event["destination"]["kind"],
            event["operation"],
            event["processing"],
            tuple([consent[flag] for flag in self._flags]),
        )
        codes = tuple(dict.fromkeys(event["elements"]))
        tags = self._tags
        elements = tuple([tags.get(c) or TaggedElement(c, "unknown", None) for c in codes])
        findings = _NO_FINDINGS
        for plan in self._compiler.plans(shape):
            involved = self._fire(plan, event, codes, state)
            if involved:
                if findings is _NO_FINDINGS:
                    findings = ()
                findings += (self._finding(plan, event, involved),)
        return Verdict(
            event,
            self.policy_version,
            known.category if known is not None else None,
            known is not None,
            elements,
            findings,
        )

    def _fire(
        self, plan: RulePlan, event: DataAccessEvent, codes: tuple[str, ...], state: RuleState
    ) -> tuple[str, ...]:
        """The elements involved when the rule fires on this event, else ()."""
        catalog = self._catalog
        bits = 0
        for i, probe in enumerate(plan.probes):
            if probe.touches(codes, catalog):
                bits |= 1 << i
        sets = plan.outcomes[bits]
        if sets is None:
            return ()
        kind = plan.rule.kind
        if kind == "reidentification":
            linkable = sets[0].pick(codes, catalog)
            identifying = sets[1].pick(codes, catalog)
            seen = observe_reidentification(
                event, bool(linkable), bool(identifying), self._window, state
            )
            return tuple(dict.fromkeys(linkable + identifying)) if seen else ()
        chosen = sets[0].pick(codes, catalog)
        if chosen and kind == "opted_out" and not opted_out(event, plan.rule.params["flag"], state):
            return ()
        return chosen

    def _finding(
        self, plan: RulePlan, event: DataAccessEvent, involved: tuple[str, ...]
    ) -> Finding:
        rule = plan.rule
        purpose = event["purpose"]
        destination = event["destination"]
        actor = event["actor"]
        message = rule.message.format(
            service=event["service"],
            purpose=describe_purpose(purpose, self._purposes.get(purpose or "")),
            elements=describe_elements(involved),
            destination=describe_destination(destination["kind"], destination["name"]),
            origin=event["origin_service"] or event["service"],
            operation=event["operation"],
            processing=event["processing"],
            actor=f"{actor['kind']} {actor['id']}",
            window=describe_window(self._window),
        )
        return Finding(
            violation_id(event["event_id"], rule.id, self.policy_version),
            rule.id,
            rule.severity,
            rule.mode,
            involved,
            " ".join(message.split()),
        )
