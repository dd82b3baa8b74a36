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

    `after_consent` marks an access planned right after a consent change of its subject: it
    must reach the pipeline after that change, so the simulator holds it back a while.
    """

    scenario: Scenario
    subject: str
    breaks: frozenset[str]
    after_consent: bool = False


@dataclass(frozen=True, slots=True)
class PlannedConsent:
    """A consent change to emit for a raw subject id."""

    subject: str
    targeting_opt_out: bool


def plan(
    seed: int, violation_rate: float, consent_rate: float = 0.01
) -> Iterator[PlannedAccess | PlannedConsent]:
    """Endless planned traffic.

    With probability `violation_rate` an access comes from a violating scenario, cycling so
    that every rule is broken early in any run. Every so often a subject opts out of targeted
    ads and is then shown one (rule `targeting_opted_out` through the consent stream), and
    an actor re-identifies a subject by reading its pseudonymized behaviour and then its name
    (rule `reidentification_suspected`).
    """
    if not 0.0 <= violation_rate <= 1.0:
        raise ValueError("violation_rate must be between 0 and 1")
    rng = random.Random(seed)  # noqa: S311 - reproducible traffic, not secrets
    violating = 0
    sequences = 0
    while True:
        subject = f"user-{rng.randrange(SUBJECTS):05d}"
        draw = rng.random()
        # Stateful sequences get subjects of their own, so random traffic never completes or
        # spoils them and the planted findings can be counted exactly.
        if draw < consent_rate * violation_rate:
            sequences += 1
            yield from _opt_out_then_ads(f"opted-out-{seed}-{sequences}")
        elif draw < 2 * consent_rate * violation_rate:
            sequences += 1
            yield from _reidentification(f"reidentified-{seed}-{sequences}")
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


def _reidentification(subject: str) -> Iterator[PlannedAccess]:
    # The same actor reads pseudonymized behaviour, then the person's name, within the
    # window and outside fraud prevention: the second access is the finding.
    yield PlannedAccess(_PROFILE, subject, frozenset())
    yield PlannedAccess(_REID_LOOKUP, subject, frozenset({"reidentification_suspected"}))
