"""The tables the sink writes, and the columns it fills (in row order)."""

from __future__ import annotations

from typing import Final, Literal

TableName = Literal["access_events", "violations", "rejected_events"]

ACCESS_EVENTS: Final = "access_events"
VIOLATIONS: Final = "violations"
REJECTED_EVENTS: Final = "rejected_events"
SINK_BATCHES: Final = "sink_batches"

ACCESS_EVENT_COLUMNS: Final = (
    "event_id",
    "occurred_at",
    "processed_at",
    "policy_version",
    "service",
    "actor_kind",
    "actor_id",
    "subject_id",
    "elements",
    "element_categories",
    "element_sensitivities",
    "purpose",
    "purpose_category",
    "purpose_known",
    "operation",
    "processing",
    "destination_kind",
    "destination_name",
    "origin_service",
    "targeting_opt_out",
    "publication_consent",
    "payroll_other_use_consent",
    "record_count",
    "trace_id",
    "attributes",
    "violation_rules",
    "violation_severities",
    "violation_modes",
    "provision_third_party",
    "provision_recipient_registered",
    "provision_recipient_address",
    "provision_recipient_representative",
    "provision_basis",
    "provision_linkable",
    "provision_link_consent",
    "source_partition",
    "source_offset",
)

VIOLATION_COLUMNS: Final = (
    "violation_id",
    "event_id",
    "occurred_at",
    "detected_at",
    "policy_version",
    "rule",
    "severity",
    "mode",
    "service",
    "actor_kind",
    "actor_id",
    "subject_id",
    "purpose",
    "purpose_category",
    "destination_kind",
    "elements",
    "message",
    "trace_id",
    "detected_late_ms",
    "source_partition",
    "source_offset",
)

REJECTED_EVENT_COLUMNS: Final = (
    "rejected_at",
    "step_id",
    "reason",
    "detail",
    "source_topic",
    "source_partition",
    "source_offset",
    "payload_size",
    "payload_prefix",
    "key",
    "received_topic",
    "received_partition",
    "received_offset",
)

SINK_BATCH_COLUMNS: Final = (
    "consumer_group",
    "topic",
    "partition",
    "first_offset",
    "last_offset",
    "messages",
    "digest",
    "write_id",
)

# The id of the write that stored a row (migration 007), after each table's own columns.
SINK_WRITE: Final = "sink_write"

COLUMNS: Final[dict[TableName, tuple[str, ...]]] = {
    "access_events": ACCESS_EVENT_COLUMNS,
    "violations": VIOLATION_COLUMNS,
    "rejected_events": REJECTED_EVENT_COLUMNS,
}
