"""Realistic audit traffic from the services of the seed page, for the demo and tests."""

from dua.simulation.scenarios import COMPLIANT, STATELESS_RULES, VIOLATING, Scenario
from dua.simulation.traffic import PlannedAccess, PlannedConsent, plan

__all__ = [
    "COMPLIANT",
    "STATELESS_RULES",
    "VIOLATING",
    "PlannedAccess",
    "PlannedConsent",
    "Scenario",
    "plan",
]
