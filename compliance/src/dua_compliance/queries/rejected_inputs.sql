-- Inputs the pipeline could not use, by step and reason, with where they came from.
SELECT
    step_id,
    reason,
    source_topic,
    count() AS rejected,
    sum(payload_size) AS bytes,
    min(rejected_at) AS first_seen,
    max(rejected_at) AS last_seen
FROM rejected_events
WHERE rejected_at >= {since:DateTime64(3, 'UTC')}
GROUP BY step_id, reason, source_topic
ORDER BY rejected DESC, step_id, reason
