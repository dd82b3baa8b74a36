-- Rejected inputs since the demo run started.
SELECT count() AS rejected
FROM rejected_events
WHERE rejected_at >= {since:DateTime64(3, 'UTC')}
