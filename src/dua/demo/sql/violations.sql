-- Violations found in one demo run, by rule and severity.
SELECT
    rule,
    severity,
    count() AS violations
FROM violations_unique
WHERE event_id IN (
    SELECT event_id FROM access_events_unique
    WHERE attributes['sim_run'] = {run:String}
)
GROUP BY rule, severity
ORDER BY violations DESC, rule
