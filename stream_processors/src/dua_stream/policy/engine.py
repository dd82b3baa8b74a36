"""`Engine`: classifies access events against a compiled policy. Pure: no I/O, no clock.

`classify` expects a validated record (`dua_schemas.validate_event`); the processor and the
CLI validate before they call it. It is written for speed (it runs on every event): a
lookup of the event's shape, a lookup of its element list (what the stateless rules make of
it is remembered per shape), then only the stateful checks that can still fire.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import timedelta
from operator import itemgetter
from typing import Final, NamedTuple, cast

from dua_schemas import ConsentChange, DataAccessEvent
from dua_stream.policy.compiler import (
    OPTED_OUT,
    REIDENTIFICATION,
    Compiler,
    ElementsPlan,
    RulePlan,
    ShapeKey,
    ShapePlan,
    Step,
)
from dua_stream.policy.messages import (
    describe_destination,
    describe_elements,
    describe_purpose,
    describe_window,
)
from dua_stream.policy.model import Policy, Purpose
from dua_stream.policy.state import RuleState
from dua_stream.policy.stateful import observe_reidentification, opted_out, record_consent
from dua_stream.policy.verdict import Finding, Verdict, violation_id

_NO_FINDINGS: Final[tuple[Finding, ...]] = ()


class EngineTables(NamedTuple):
    """What `classify` looks events up in: the engine's own objects, not copies (a native
    per-event path reads them; see `dua_stream.processor.fastpath`)."""

    purposes: Mapping[str, Purpose]
    services: Collection[str]
    consent_flags: tuple[str, ...]  # the shape's consent part: these flags of the event, in order
    plans: dict[ShapeKey, ShapePlan]  # compiled shapes; `ShapePlan.seen` their element lists
    window_ms: int  # the re-identification window
    window_text: str  # the window as finding messages say it


class Engine:
    """The policy, compiled once; `classify` one event at a time, in order per subject."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.policy_version = policy.version
        self._compiler = Compiler(policy)
        specializer = self._compiler.specializer
        self._purposes = specializer.purposes
        self._unknown_purpose = specializer.unknown_purpose_shape
        self._services = specializer.services
        self._consent_flags = specializer.consent_flags
        self._consent_shape = _flag_reader(specializer.consent_flags)
        self._window_ms = policy.reidentification_window // timedelta(milliseconds=1)
        self._window_text = describe_window(policy.reidentification_window)

    def apply_consent(self, change: ConsentChange, state: RuleState) -> None:
        """Learn a subject's consent choices from the consent stream."""
        record_consent(change, state)

    def classify(self, event: DataAccessEvent, state: RuleState) -> Verdict:
        """The verdict on one event; stateful rules read and update `state`."""
        purpose = event["purpose"]
        known = self._purposes.get(purpose) if purpose is not None else None
        service = event["service"]
        origin_service = event["origin_service"]
        origin = origin_service or service
        services = self._services
        consent = cast(Mapping[str, bool], event["consent"])
        plan = self._compiler.plan(
            (
                purpose if known is not None or purpose is None else self._unknown_purpose(purpose),
                service if service in services else None,
                origin if origin in services else None,
                origin_service is not None and origin_service != service,
                event["destination"]["kind"],
                event["operation"],
                event["processing"],
                self._consent_shape(consent),
            )
        )
        elements = event["elements"]
        key = tuple(elements)
        seen = plan.seen.get(key) or self._compiler.elements_plan(plan, key)
        findings = _NO_FINDINGS
        for step in seen.steps:  # most events: none
            check = step.check
            if check == OPTED_OUT:
                if not opted_out(event, step.plan.rule.params["flag"], state):
                    continue
            elif check == REIDENTIFICATION and not observe_reidentification(
                event, step.linkable, step.identifying, self._window_ms, state
            ):
                continue
            findings = (*findings, self._finding(step.plan, event, step.involved))
        return self._verdict(event, known, seen, findings)

    def tables(self) -> EngineTables:
        """The tables `classify` reads (shapes and element lists compiled so far included)."""
        return EngineTables(
            self._purposes,
            self._services,
            self._consent_flags,
            self._compiler.plans,
            self._window_ms,
            self._window_text,
        )

    def verdict(
        self,
        event: DataAccessEvent,
        known: Purpose | None,
        seen: ElementsPlan,
        fired: Sequence[Step],
    ) -> Verdict:
        """The verdict `classify` returns once it knows the event's purpose, element plan and
        which of the plan's steps fired (for a caller that decided those itself)."""
        findings = tuple(self._finding(step.plan, event, step.involved) for step in fired)
        return self._verdict(event, known, seen, findings)

    def _verdict(
        self,
        event: DataAccessEvent,
        known: Purpose | None,
        seen: ElementsPlan,
        findings: tuple[Finding, ...],
    ) -> Verdict:
        return Verdict(
            event,
            self.policy_version,
            known.category if known is not None else None,
            known is not None,
            seen.tagged,
            findings,
        )

    def _finding(
        self, plan: RulePlan, event: DataAccessEvent, involved: tuple[str, ...]
    ) -> Finding:
        rule = plan.rule
        purpose = event["purpose"]
        destination = event["destination"]
        actor = event["actor"]
        message = plan.message.format(
            service=event["service"],
            purpose=describe_purpose(purpose, self._purposes.get(purpose or "")),
            elements=describe_elements(involved),
            destination=describe_destination(destination["kind"], destination["name"]),
            origin=event["origin_service"] or event["service"],
            operation=event["operation"],
            processing=event["processing"],
            actor=f"{actor['kind']} {actor['id']}",
            window=self._window_text,
        )
        return Finding(
            violation_id(event["event_id"], rule.id, self.policy_version),
            rule.id,
            rule.severity,
            rule.mode,
            involved,
            message,
        )


def _flag_reader(flags: tuple[str, ...]) -> Callable[[Mapping[str, bool]], tuple[bool, ...]]:
    """A fast function from an event's consent flags to the ones the rules ask about."""
    if len(flags) > 1:
        return itemgetter(*flags)  # a tuple for two keys or more
    if flags:
        (flag,) = flags
        return lambda consent: (consent[flag],)
    return lambda _: ()
