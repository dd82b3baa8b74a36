-- One page of access events matching the explorer's filter (fragments fixed in filters.py,
-- every value a query parameter), newest first. It reads the table, not the FINAL view, so the
-- newest rows come by a top-N sort; a row the processor emitted twice and not yet merged is
-- folded into one by the caller, which asks for a few rows more than a page for that.
SELECT
    occurred_at,
    service,
    actor_id,
    purpose,
    elements,
    element_categories,
    operation,
    processing,
    destination_kind,
    destination_name,
    violation_rules,
    violation_severities,
    policy_version,
    event_id
FROM access_events
WHERE ${filter}
ORDER BY occurred_at DESC, event_id DESC
LIMIT {limit:UInt32} OFFSET {offset:UInt64}
