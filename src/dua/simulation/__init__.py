"""Realistic audit traffic from the services of the seed page, for the demo and tests."""

from dua.simulation.runner import (
    ClientFactory,
    SimulationOptions,
    SimulationResult,
    Simulator,
)
from dua.simulation.scenarios import COMPLIANT, STATELESS_RULES, VIOLATING, Scenario
from dua.simulation.traffic import PlannedAccess, PlannedConsent, plan

__all__ = [
    "COMPLIANT",
    "STATELESS_RULES",
    "VIOLATING",
    "ClientFactory",
    "PlannedAccess",
    "PlannedConsent",
    "Scenario",
    "SimulationOptions",
    "SimulationResult",
    "Simulator",
    "plan",
]
