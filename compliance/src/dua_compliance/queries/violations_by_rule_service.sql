-- Violations per rule and service, most severe first (active rules; shadow-mode findings counted apart).
SELECT
    rule,
    severity,
    service,
    sumIf(violations, mode = 'active') AS active_violations,
    sumIf(violations, mode = 'shadow') AS shadow_findings,
    min(day) AS first_day,
    max(day) AS last_day
FROM violations_daily
WHERE day >= toDate({since:DateTime64(3, 'UTC')}, 'UTC')
GROUP BY rule, severity, service
ORDER BY transform(severity, ['critical', 'high', 'medium', 'low'], [0, 1, 2, 3], 4), active_violations DESC, rule, service
