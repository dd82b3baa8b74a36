"""Names of the records and the closed vocabularies of the contract.

Records travel as plain dicts (what fastavro reads and writes) because classification runs
at hundreds of thousands of events per second; these TypedDicts give them a checked shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal, TypedDict

DATA_ACCESS_EVENT: Final = "DataAccessEvent"
CONSENT_CHANGE: Final = "ConsentChange"
TAGGED_ACCESS_EVENT: Final = "TaggedAccessEvent"
VIOLATION: Final = "Violation"
REJECTED_EVENT: Final = "RejectedEvent"

RecordName = Literal[
    "DataAccessEvent", "ConsentChange", "TaggedAccessEvent", "Violation", "RejectedEvent"
]
RECORD_NAMES: Final[tuple[RecordName, ...]] = (
    "DataAccessEvent",
    "ConsentChange",
    "TaggedAccessEvent",
    "Violation",
    "RejectedEvent",
)

ACTOR_KINDS: Final = ("SERVICE", "EMPLOYEE", "USER", "PARTNER", "BATCH_JOB")
OPERATIONS: Final = ("READ", "WRITE", "DELETE", "EXPORT", "SHARE", "JOIN")
PROCESSING_STATES: Final = ("RAW", "PSEUDONYMIZED", "STATISTICAL")
DESTINATION_KINDS: Final = (
    "INTERNAL",
    "GROUP_SERVICE",
    "CLIENT",
    "AD_PLATFORM",
    "EMPLOYER",
    "PUBLIC",
    "FINANCIAL_INSTITUTION",
)
CONSENT_FLAGS: Final = ("targeting_opt_out", "publication_consent", "payroll_other_use_consent")
# a ConsentChange's flags: the event's, and those learned from the consent stream alone (v2)
CONSENT_CHANGE_FLAGS: Final = (*CONSENT_FLAGS, "third_party_link_consent")
DATA_CATEGORIES: Final = ("personal", "informative", "unknown")
SEVERITIES: Final = ("low", "medium", "high", "critical")
RULE_MODES: Final = ("active", "shadow")


class Actor(TypedDict):
    kind: str
    id: str


class Destination(TypedDict):
    kind: str
    name: str | None


class ConsentFlags(TypedDict):
    targeting_opt_out: bool
    publication_consent: bool
    payroll_other_use_consent: bool


class DataAccessEvent(TypedDict):
    event_id: str
    occurred_at: datetime
    service: str
    actor: Actor
    subject_id: str | None
    elements: list[str]
    purpose: str | None
    operation: str
    processing: str
    destination: Destination
    origin_service: str | None
    consent: ConsentFlags
    record_count: int
    trace_id: str | None
    attributes: dict[str, str]


class ConsentChange(TypedDict):
    subject_id: str
    occurred_at: datetime
    targeting_opt_out: bool
    publication_consent: bool
    payroll_other_use_consent: bool
    third_party_link_consent: bool  # v2 (a v1 record resolves to false)
