-- Active violations grouped into issues: one per rule, service, purpose and destination kind.
-- `last_day` and `day_before` give the trend (the 24 hours before `until`, and the 24 before).
-- Read on the table, not the FINAL view (grouping needs no deduplicated rows to be fast): a
-- violation emitted twice and not yet merged counts twice; `uniq` is exact below 65,536
-- subjects. The issue page lists the deduplicated violations.
SELECT
    rule,
    service,
    purpose,
    destination_kind,
    any(severity) AS severity,
    count() AS violations,
    uniq(subject_id) AS subjects,
    min(occurred_at) AS first_seen,
    max(occurred_at) AS last_seen,
    countIf(occurred_at >= {until:DateTime64(3, 'UTC')} - INTERVAL 1 DAY) AS last_day,
    countIf(
        occurred_at < {until:DateTime64(3, 'UTC')} - INTERVAL 1 DAY
        AND occurred_at >= {until:DateTime64(3, 'UTC')} - INTERVAL 2 DAY
    ) AS day_before
FROM violations
WHERE mode = 'active'
  AND occurred_at >= {since:DateTime64(3, 'UTC')}
  AND occurred_at < {until:DateTime64(3, 'UTC')}
GROUP BY rule, service, purpose, destination_kind
ORDER BY last_seen DESC, rule, service, purpose, destination_kind
