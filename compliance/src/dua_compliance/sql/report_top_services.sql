-- Services by accesses in the window, with their active violations.
SELECT
    e.service AS service,
    e.events AS events,
    coalesce(v.violations, 0) AS violations
FROM
(
    SELECT service, count() AS events
    FROM access_events_unique
    WHERE occurred_at >= {since:DateTime64(3, 'UTC')}
    GROUP BY service
) AS e
LEFT JOIN
(
    SELECT service, count() AS violations
    FROM violations_unique
    WHERE occurred_at >= {since:DateTime64(3, 'UTC')} AND mode = 'active'
    GROUP BY service
) AS v ON v.service = e.service
ORDER BY violations DESC, events DESC, service
LIMIT {limit:UInt32}
