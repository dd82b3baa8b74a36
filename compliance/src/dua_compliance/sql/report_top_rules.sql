-- Rules by active violations in the window.
SELECT rule, any(severity) AS rule_severity, sum(violations) AS active_violations, uniqExact(service) AS services
FROM violations_daily
WHERE day >= toDate({since:DateTime64(3, 'UTC')}, 'UTC') AND mode = 'active'
GROUP BY rule
ORDER BY active_violations DESC, rule
LIMIT {limit:UInt32}
