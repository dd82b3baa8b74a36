-- Violations found late, per rule and service: a consent change that arrived after the processor's grace (a producer that spooled it) showed an access already processed to be a violation; each has the id it would have had on time.
SELECT
    rule,
    service,
    count() AS violations,
    max(detected_late_ms) AS longest_delay_ms,
    min(detected_at) AS first_detected,
    max(detected_at) AS last_detected
FROM violations_unique
WHERE detected_at >= {since:DateTime64(3, 'UTC')}
    AND detected_late_ms > 0
GROUP BY rule, service
ORDER BY violations DESC, rule, service
