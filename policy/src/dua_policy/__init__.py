"""The policy engine: the published promises as data, and the classifier that checks events.

Load a policy (`load_policy`), build an `Engine`, then `classify(event, state)` each access
event and `apply_consent(change, state)` each consent change. See README.md beside this
file for the policy file format.
"""

from dua_policy.engine import Engine
from dua_policy.errors import PolicyError, Problem
from dua_policy.loader import load_policy, parse_policy
from dua_policy.model import Element, Label, Policy, Purpose, Rule
from dua_policy.recipients import PROVISION_BASES, RECIPIENT_KINDS, Recipient
from dua_policy.record_counts import RecordCountThresholds
from dua_policy.state import MemoryState, RuleState, consent_key, reidentification_key
from dua_policy.verdict import Finding, TaggedElement, Verdict, violation_id

__all__ = [
    "PROVISION_BASES",
    "RECIPIENT_KINDS",
    "Element",
    "Engine",
    "Finding",
    "Label",
    "MemoryState",
    "Policy",
    "PolicyError",
    "Problem",
    "Purpose",
    "Recipient",
    "RecordCountThresholds",
    "Rule",
    "RuleState",
    "TaggedElement",
    "Verdict",
    "consent_key",
    "load_policy",
    "parse_policy",
    "reidentification_key",
    "violation_id",
]
