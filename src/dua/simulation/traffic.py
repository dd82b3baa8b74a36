"""A seeded stream of planned accesses: mostly compliant, a share breaking each rule.

Pure and deterministic for a seed, so a demo run can be reproduced and a test can know in
advance which findings the pipeline must report.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from dua.simulation.scenarios import COMPLIANT, VIOLATING, Scenario

SUBJECTS = 5_000  # distinct users the services touch


@dataclass(frozen=True, slots=True)
class PlannedAccess:
    """An access to emit: the scenario, the raw subject id, and the rules it should raise.

    `after_consent` marks an access planned right after a consent change of its subject (the
    simulator may hold it back `consent_lead_s`). `at_ms`: its `occurred_at`, in ms after the
    start of its sequence (the first item sent of its subject); None: when it is sent.
    """

    scenario: Scenario
    subject: str
    breaks: frozenset[str]
    after_consent: bool = False
    at_ms: int | None = None


@dataclass(frozen=True, slots=True)
class PlannedConsent:
    """A consent change to emit for a raw subject id; `at_ms` as for `PlannedAccess`;
    `late_s`: sent that long after it happened (a producer that spooled it)."""

    subject: str
    targeting_opt_out: bool
    at_ms: int | None = None
    late_s: float = 0.0
    third_party_link_consent: bool = False


# How long the simulator's spooled opt-out waits before it is sent: past the processor's
# consent grace (`DUA_PROCESSOR_CONSENT_GRACE_MS`, 0.25 s), so it is found late, on purpose.
SPOOLED_LATE_S = 3.0


def plan(
    seed: int, violation_rate: float, consent_rate: float = 0.01, run: str = ""
) -> Iterator[PlannedAccess | PlannedConsent]:
    """Endless planned traffic.

    With probability `violation_rate` an access comes from a violating scenario, cycling so
    that every rule is broken early in any run. Every so often a subject opts out of targeted
    ads and is then shown one (rule `targeting_opted_out` through the consent stream), one of
    the races between the consent and raw topics is planted (`_RACES`), and an actor
    re-identifies a subject by reading its pseudonymized behaviour and then its name (rule
    `reidentification_suspected`).

    The stateful sequences' subjects carry `run` (the run id, when there is one): a rule that
    reports once per window per subject (re-identification) would otherwise stay silent for
    the planted subjects of a run that follows another within its window on the same state.
    """
    if not 0.0 <= violation_rate <= 1.0:
        raise ValueError("violation_rate must be between 0 and 1")
    rng = random.Random(seed)  # noqa: S311 - reproducible traffic, not secrets
    violating = 0
    sequences = 0
    tag = f"{run}-{seed}" if run else str(seed)
    while True:
        subject = f"user-{rng.randrange(SUBJECTS):05d}"
        draw = rng.random()
        # Stateful sequences get subjects of their own, so random traffic never completes or
        # spoils them and the planted findings can be counted exactly.
        if draw < consent_rate * violation_rate:
            sequences += 1
            yield from _opt_out_then_ads(f"opted-out-{tag}-{sequences}")
        elif draw < 2 * consent_rate * violation_rate:
            sequences += 1
            yield from _reidentification(f"reidentified-{tag}-{sequences}")
        elif draw < 3 * consent_rate * violation_rate:
            sequences += 1
            race = _RACES[sequences % len(_RACES)]
            yield from race(f"race-{race.__name__.strip('_')}-{tag}-{sequences}")
        elif draw < 4 * consent_rate * violation_rate:
            sequences += 1
            yield from _link_consent_then_ads(f"link-consented-{tag}-{sequences}")
        elif rng.random() < violation_rate:
            scenario = VIOLATING[violating % len(VIOLATING)]
            violating += 1
            yield PlannedAccess(scenario, subject, scenario.breaks)
        else:
            yield PlannedAccess(rng.choice(COMPLIANT), subject, frozenset())


_ADS = next(s for s in COMPLIANT if s.name == "ads")
_PROFILE = next(s for s in COMPLIANT if s.name == "recommend")
# Same service and scenario name as the profiling access, hence the same actor id.
_REID_LOOKUP = Scenario(
    "recommend",
    "hotpepper-gourmet",
    ("user.account.id", "user.name"),
    "service.identity_verification",
)


def _opt_out_then_ads(subject: str) -> Iterator[PlannedAccess | PlannedConsent]:
    # The ad access carries no opt-out flag itself: only the consent stream can tell.
    yield PlannedConsent(subject, targeting_opt_out=True)
    yield PlannedAccess(_ADS, subject, frozenset({"targeting_opted_out"}), after_consent=True)


_OPT_OUT_AD = frozenset({"targeting_opted_out"})
_LINKED_ADS = next(s for s in VIOLATING if s.name == "ads-linked-unconsented")


def _link_consent_then_ads(subject: str) -> Iterator[PlannedAccess | PlannedConsent]:
    # The subject consents to ad data being linked to them, then an ad platform that links it
    # receives their browsing data: a provision confirmed under APPI Art. 31, no violation
    # (the same access without the consent is rule 16).
    yield PlannedConsent(subject, targeting_opt_out=False, third_party_link_consent=True)
    yield PlannedAccess(_LINKED_ADS, subject, frozenset(), after_consent=True)


def _same_millisecond(subject: str) -> Iterator[PlannedAccess | PlannedConsent]:
    # The opt-out and the ad in the same millisecond, the ad sent first: the opt-out is in
    # force from its own millisecond, so the ad is a violation.
    yield PlannedAccess(_ADS, subject, _OPT_OUT_AD, at_ms=0)
    yield PlannedConsent(subject, targeting_opt_out=True, at_ms=0)


def _spooled_opt_out(subject: str) -> Iterator[PlannedAccess | PlannedConsent]:
    # The opt-out happened just before the ad, but its producer spooled it: it arrives after
    # the grace, and the violation is found then, marked late, with its on-time id.
    yield PlannedAccess(_ADS, subject, _OPT_OUT_AD, at_ms=1)
    yield PlannedConsent(subject, targeting_opt_out=True, at_ms=0, late_s=SPOOLED_LATE_S)


def _opt_in_again(subject: str) -> Iterator[PlannedAccess | PlannedConsent]:
    # Opt-out, an ad, opt-in again, an ad, all sent at once: the ad between is a violation
    # (and stays one), the ad after the opt-in is not.
    yield PlannedConsent(subject, targeting_opt_out=True, at_ms=0)
    yield PlannedAccess(_ADS, subject, _OPT_OUT_AD, at_ms=1)
    yield PlannedConsent(subject, targeting_opt_out=False, at_ms=2)
    yield PlannedAccess(_ADS, subject, frozenset(), at_ms=3)


_RACES = (_same_millisecond, _spooled_opt_out, _opt_in_again)


def _reidentification(subject: str) -> Iterator[PlannedAccess]:
    # The same actor reads pseudonymized behaviour, then the person's name, within the
    # window and outside fraud prevention: the second access is the finding.
    yield PlannedAccess(_PROFILE, subject, frozenset())
    yield PlannedAccess(_REID_LOOKUP, subject, frozenset({"reidentification_suspected"}))
