"""Stream processing of data-usage-audit: the policy engine (and the Faust app around it).

Importing this package never imports Faust: the processor lives in `dua_stream.processor`.
"""

from dua_stream.policy import (
    Element,
    Engine,
    Finding,
    Label,
    MemoryState,
    Policy,
    PolicyError,
    Problem,
    Purpose,
    Rule,
    RuleState,
    TaggedElement,
    Verdict,
    consent_key,
    load_policy,
    parse_policy,
    reidentification_key,
    violation_id,
)

__all__ = [
    "Element",
    "Engine",
    "Finding",
    "Label",
    "MemoryState",
    "Policy",
    "PolicyError",
    "Problem",
    "Purpose",
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
