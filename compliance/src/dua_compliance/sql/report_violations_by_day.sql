-- Active violations per day and severity.
SELECT day, severity, sum(violations) AS active_violations
FROM violations_daily
WHERE day >= toDate({since:DateTime64(3, 'UTC')}, 'UTC') AND mode = 'active'
GROUP BY day, severity
ORDER BY day, severity
