-- One chunk of an export: the events matching the filter older than the last one sent
-- (keyset paging, so an export of any size streams at a steady cost per chunk).
SELECT
    occurred_at,
    service,
    actor_kind,
    actor_id,
    subject_id,
    purpose,
    purpose_category,
    elements,
    element_categories,
    operation,
    processing,
    destination_kind,
    destination_name,
    origin_service,
    record_count,
    violation_rules,
    violation_severities,
    policy_version,
    event_id
FROM access_events_unique
WHERE ${filter}
  AND (occurred_at, event_id) < ({after_time:DateTime64(3, 'UTC')}, {after_id:String})
ORDER BY occurred_at DESC, event_id DESC
LIMIT {limit:UInt32}
