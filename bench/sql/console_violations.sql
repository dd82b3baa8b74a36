-- One violation row per rule of each synthetic event (as the sink writes them).
INSERT INTO ${database}.violations
(
    violation_id, event_id, occurred_at, detected_at, policy_version, rule, severity, mode,
    service, actor_kind, actor_id, subject_id, purpose, purpose_category, destination_kind,
    elements, message, trace_id, source_partition, source_offset
)
SELECT
    concat(event_id, ':', rule), event_id, occurred_at, processed_at, policy_version, rule,
    severity, 'active', service, actor_kind, actor_id, subject_id, purpose, purpose_category,
    destination_kind, elements, concat(rule, ' (synthetic)'), '', 0, source_offset
FROM ${database}.access_events
ARRAY JOIN violation_rules AS rule, violation_severities AS severity
