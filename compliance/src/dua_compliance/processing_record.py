"""The record of processing activities (GDPR Art. 30(1)) from the policy and the observed map.

One activity per purpose of the policy: (b) the purpose; (c) the categories of data subjects
(the users of the services that processed data for it) and of personal data (the elements the
policy declares, and those services were seen to use); (d) the categories of recipients (the
destination kinds and names seen, with what the policy declares about each); (f) the time limits
for erasure as this system knows them (the audit tables' retention, and the 3 years APPI asks of
provision records). Controller contacts (a) and security measures (g) are not in the policy
and are left to the privacy team.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

from dua_compliance.datamap import DataMap, MapEntry
from dua_policy import Policy

# APPI Rules Art. 21: provision and confirmation records are kept 3 years.
APPI_RECORD_YEARS: Final = 3


@dataclass(frozen=True, slots=True)
class RecipientEntry:
    """A destination the purpose's data went to, and what the policy says about it."""

    kind: str
    name: str
    declared: bool
    third_party: bool
    address: str | None
    representative: str | None


@dataclass(frozen=True, slots=True)
class ProcessingActivity:
    """One purpose's entry of the record."""

    purpose: str
    purpose_ja: str
    purpose_en: str
    purpose_category: str
    data_subjects: tuple[str, ...]
    data_categories: tuple[str, ...]
    elements_declared: tuple[str, ...]
    elements_observed: tuple[str, ...]
    elements_undeclared: tuple[str, ...]
    recipients: tuple[RecipientEntry, ...]
    accesses: int
    erasure: str


@dataclass(frozen=True, slots=True)
class ProcessingRecord:
    """The whole record: the policy it was built from and one activity per purpose."""

    policy_version: str
    generated_at: str
    observed_since: str
    audit_retention_days: int
    activities: tuple[ProcessingActivity, ...]


def processing_record(
    policy: Policy, data_map: DataMap, audit_retention_days: int
) -> ProcessingRecord:
    """The record from the policy and the map (see the module docstring)."""
    observed = [entry for entry in data_map.entries if "unseen" not in entry.drift]
    erasure = (
        f"audit trail of the accesses: {audit_retention_days} days; "
        f"APPI provision and confirmation records: {APPI_RECORD_YEARS} years"
    )
    activities = tuple(
        _activity(policy, purpose.code, [e for e in observed if e.purpose == purpose.code], erasure)
        for purpose in policy.purposes
    )
    return ProcessingRecord(
        policy_version=policy.version,
        generated_at=data_map.now.isoformat(),
        observed_since=data_map.since.isoformat(),
        audit_retention_days=audit_retention_days,
        activities=activities,
    )


def _activity(
    policy: Policy, code: str, entries: Sequence[MapEntry], erasure: str
) -> ProcessingActivity:
    purpose = policy.purpose(code)
    assert purpose is not None  # codes come from the policy itself
    categories = {element.code: element.category for element in policy.elements}
    declared = (
        tuple(e.code for e in policy.elements)
        if purpose.permits_all
        else tuple(sorted(purpose.permitted))
    )
    used = sorted({entry.element for entry in entries})
    undeclared = sorted({e.element for e in entries if "undeclared" in e.drift})
    return ProcessingActivity(
        purpose=code,
        purpose_ja=purpose.label.ja,
        purpose_en=purpose.label.en,
        purpose_category=purpose.category,
        data_subjects=tuple(f"users of {s}" for s in sorted({e.service for e in entries})),
        data_categories=tuple(sorted({categories.get(c, "unknown") for c in (*declared, *used)})),
        elements_declared=declared,
        elements_observed=tuple(used),
        elements_undeclared=tuple(undeclared),
        recipients=_recipients(policy, entries),
        accesses=sum(entry.accesses for entry in entries),
        erasure=erasure,
    )


def _recipients(policy: Policy, entries: Sequence[MapEntry]) -> tuple[RecipientEntry, ...]:
    found = []
    for destination in sorted({e.destination for e in entries}):
        kind, _, name = destination.partition(":")
        if kind == "INTERNAL":
            continue
        recipient = policy.recipient(kind, name or None)
        found.append(
            RecipientEntry(
                kind=kind,
                name=name,
                declared=recipient is not None,
                third_party=not (recipient is not None and recipient.joint_use),
                address=None if recipient is None else recipient.address,
                representative=None if recipient is None else recipient.representative,
            )
        )
    return tuple(found)


def record_json(record: ProcessingRecord) -> str:
    """The record as one JSON document."""
    return json.dumps(asdict(record), ensure_ascii=False, indent=2) + "\n"


CSV_COLUMNS: Final = (
    "purpose",
    "purpose_ja",
    "purpose_en",
    "data_subjects",
    "data_categories",
    "elements_declared",
    "elements_observed",
    "elements_undeclared",
    "recipients",
    "accesses",
    "erasure",
)


def record_csv(record: ProcessingRecord) -> str:
    """The record as CSV, one row per purpose; lists are joined with "; "."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for activity in record.activities:
        values: dict[str, Any] = asdict(activity)
        values["recipients"] = tuple(_recipient_text(r) for r in activity.recipients)
        writer.writerow(
            "; ".join(v) if isinstance(v := values[column], tuple | list) else v
            for column in CSV_COLUMNS
        )
    return buffer.getvalue()


def _recipient_text(recipient: RecipientEntry) -> str:
    name = f"{recipient.kind}:{recipient.name}" if recipient.name else recipient.kind
    if not recipient.declared:
        return f"{name} (not declared)"
    return f"{name} ({'third party' if recipient.third_party else 'joint use'})"
