-- One page of stored access events, oldest first, after a (time, id) cursor: the input of a
-- policy backtest. Keyset paging keeps every page as cheap as the first.
SELECT
    event_id, occurred_at, service, actor_kind, actor_id, subject_id, elements, purpose,
    operation, processing, destination_kind, destination_name, origin_service,
    targeting_opt_out, publication_consent, payroll_other_use_consent, record_count, trace_id,
    attributes, violation_rules, policy_version
FROM access_events_unique
WHERE occurred_at >= {since:DateTime64(3, 'UTC')}
  AND (occurred_at, event_id) > ({after_time:DateTime64(3, 'UTC')}, {after_id:String})
ORDER BY occurred_at, event_id
LIMIT {limit:UInt32}
