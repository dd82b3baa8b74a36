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

from dua_policy.compiler import (
    CONSENT_MISSING,
    OPTED_OUT,
    REIDENTIFICATION,
    Compiler,
    ElementsPlan,
    ShapeKey,
    ShapePlan,
    Step,
)
from dua_policy.message_filler import MessageFiller
from dua_policy.messages import describe_window
from dua_policy.model import Policy, Purpose
from dua_policy.provision import LINK_CONSENT, NO_PROVISION, Provision
from dua_policy.state import RuleState
from dua_policy.stateful import (
    CONSENT_RETENTION_MS,
    consent_given,
    consent_in_force,
    observe_reidentification,
    opted_out,
    record_consent,
)
from dua_policy.verdict import Finding, Verdict, violation_id
from dua_schemas import ConsentChange, DataAccessEvent, to_millis

_NO_FINDINGS: Final[tuple[Finding, ...]] = ()
NO_THRESHOLD: Final = 2**31 - 1  # record_count is an Avro int: never above this


class EngineTables(NamedTuple):
    """What `classify` looks events up in: the engine's own objects, not copies (a native
    per-event path reads them by these names; see `dua_stream.processor.fastpath`)."""

    purposes: Mapping[str, Purpose]
    services: Collection[str]
    consent_flags: tuple[str, ...]  # the shape's consent part: these flags of the event, in order
    plans: dict[ShapeKey, ShapePlan]  # compiled shapes; `ShapePlan.seen` their element lists
    window_ms: int  # the re-identification window
    window_text: str  # the window as finding messages say it
    recipients: Collection[tuple[str, str]]  # (destination kind, name) the policy declares
    thresholds: Mapping[str, int]  # record_count thresholds of the purposes that have one
    threshold: int  # the default record_count threshold (the largest int when none)


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
        self._messages = MessageFiller(self._purposes, self._window_text)
        self._recipients = frozenset((r.kind, r.name) for r in policy.recipients)
        thresholds = policy.record_count_thresholds
        self._thresholds = dict(thresholds.purposes)
        self._threshold = NO_THRESHOLD if thresholds.default is None else thresholds.default

    def apply_consent(
        self,
        change: ConsentChange,
        state: RuleState,
        retention_ms: int = CONSENT_RETENTION_MS,
    ) -> bool:
        """Learn a subject's consent choices from the consent stream (kept as a history over
        `retention_ms`); True when the subject's history changed."""
        return record_consent(change, state, retention_ms)

    def recheck(
        self,
        event: DataAccessEvent,
        before: Mapping[str, object] | None,
        after: Mapping[str, object] | None,
    ) -> tuple[Verdict, bool]:
        """An access judged earlier, against a subject's consent history that changed from
        `before` to `after` (`consent:<subject>` values): the verdict holding only the
        opted-out findings that `after` makes and `before` did not, and whether an opted-out
        rule still does not fire on it (a later change may yet make it a violation)."""
        plan = self._plan(event)
        known = plan[0]
        at = to_millis(event["occurred_at"])
        consent = cast(Mapping[str, bool], event["consent"])
        fired: list[Step] = []
        waiting = False
        for step in plan[1].steps:
            flag = step.flag
            if step.check != OPTED_OUT or flag is None or consent[flag]:
                continue
            then = consent_in_force(before, at)
            if then and then.get(flag):
                continue
            now = consent_in_force(after, at)
            if now and now.get(flag):
                fired.append(step)
            else:
                waiting = True
        return self.verdict(event, known, plan[1], fired), waiting

    def _plan(self, event: DataAccessEvent) -> tuple[Purpose | None, ElementsPlan]:
        """The event's purpose and element plan (as `classify` finds them)."""
        purpose = event["purpose"]
        known = self._purposes.get(purpose) if purpose is not None else None
        service = event["service"]
        origin_service = event["origin_service"]
        origin = origin_service or service
        services = self._services
        plan = self._compiler.plan(
            (
                purpose if known is not None or purpose is None else self._unknown_purpose(purpose),
                service if service in services else None,
                origin if origin in services else None,
                origin_service is not None and origin_service != service,
                event["destination"]["kind"],
                event["operation"],
                event["processing"],
                self._consent_shape(cast(Mapping[str, bool], event["consent"])),
                *self._recipient_and_bulk(event),
            )
        )
        key = tuple(event["elements"])
        return known, plan.seen.get(key) or self._compiler.elements_plan(plan, key)

    def classify(self, event: DataAccessEvent, state: RuleState) -> Verdict:
        """The verdict on one event; stateful rules read and update `state`."""
        purpose = event["purpose"]
        known = self._purposes.get(purpose) if purpose is not None else None
        service = event["service"]
        origin_service = event["origin_service"]
        origin = origin_service or service
        services = self._services
        consent = cast(Mapping[str, bool], event["consent"])
        destination = event["destination"]
        kind = destination["kind"]
        name = destination["name"]
        # `_recipient_and_bulk`, inline: this runs on every event
        plan = self._compiler.plan(
            (
                purpose if known is not None or purpose is None else self._unknown_purpose(purpose),
                service if service in services else None,
                origin if origin in services else None,
                origin_service is not None and origin_service != service,
                kind,
                event["operation"],
                event["processing"],
                self._consent_shape(consent),
                name if name is not None and (kind, name) in self._recipients else None,
                event["record_count"] > self._thresholds.get(purpose, self._threshold),  # type: ignore[arg-type]
            )
        )
        elements = event["elements"]
        key = tuple(elements)
        seen = plan.seen.get(key) or self._compiler.elements_plan(plan, key)
        findings = _NO_FINDINGS
        awaits = False
        for step in seen.steps:  # most events: none
            check = step.check
            if check == OPTED_OUT:
                if not opted_out(event, cast(str, step.flag), state):
                    awaits = True
                    continue
            elif check == CONSENT_MISSING:
                if consent_given(event, cast(str, step.flag), state):
                    continue
            elif check == REIDENTIFICATION and not observe_reidentification(
                event, step.linkable, step.identifying, self._window_ms, state
            ):
                continue
            findings = (*findings, self.finding(step, event))
        provision, consented = seen.provisions
        if provision is not consented and consent_given(event, LINK_CONSENT, state):
            provision = consented  # APPI Art. 31: the consent was in force
        return self._verdict(event, known, seen, findings, awaits=awaits, provision=provision)

    def _recipient_and_bulk(self, event: DataAccessEvent) -> tuple[str | None, bool]:
        """The shape's last two parts: the destination's name when it is a declared
        recipient of its kind, and whether record_count is above the purpose's threshold."""
        destination = event["destination"]
        kind, name = destination["kind"], destination["name"]
        declared = name if name is not None and (kind, name) in self._recipients else None
        # a missing purpose (None) is no key of the thresholds: the default applies
        threshold = self._thresholds.get(event["purpose"], self._threshold)  # type: ignore[arg-type]
        return declared, event["record_count"] > threshold

    def tables(self) -> EngineTables:
        """The tables `classify` reads (shapes and element lists compiled so far included)."""
        return EngineTables(
            self._purposes,
            self._services,
            self._consent_flags,
            self._compiler.plans,
            self._window_ms,
            self._window_text,
            self._recipients,
            self._thresholds,
            self._threshold,
        )

    def verdict(
        self,
        event: DataAccessEvent,
        known: Purpose | None,
        seen: ElementsPlan,
        fired: Sequence[Step],
    ) -> Verdict:
        """The verdict `classify` returns once it knows the event's purpose, element plan and
        which of the plan's steps fired (for a caller that decided those itself). The
        provision decision is made from the steps too: the link consent was in force unless a
        consent-missing step on it fired."""
        findings = tuple(self.finding(step, event) for step in fired)
        provision, consented = seen.provisions
        if provision is not consented and not any(
            s.check == CONSENT_MISSING and s.flag == LINK_CONSENT for s in fired
        ):
            provision = consented
        return self._verdict(event, known, seen, findings, provision=provision)

    def _verdict(
        self,
        event: DataAccessEvent,
        known: Purpose | None,
        seen: ElementsPlan,
        findings: tuple[Finding, ...],
        *,
        awaits: bool = False,
        provision: Provision = NO_PROVISION,
    ) -> Verdict:
        return Verdict(
            event,
            self.policy_version,
            known.category if known is not None else None,
            known is not None,
            seen.tagged,
            findings,
            awaits,
            provision,
        )

    def finding(self, step: Step, event: DataAccessEvent) -> Finding:
        """The finding of a step that fired on `event`: the rule's message template filled
        in, and its violation id (a native per-event path calls this for each finding)."""
        plan = step.plan
        rule = plan.rule
        message = self._messages.fill(plan.message, event, step.involved)
        return Finding(
            violation_id(event["event_id"], rule.id, self.policy_version),
            rule.id,
            rule.severity,
            rule.mode,
            step.involved,
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
