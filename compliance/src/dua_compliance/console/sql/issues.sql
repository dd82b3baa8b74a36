-- Active violations grouped into issues: one per rule, service, purpose and destination kind.
-- `last_day` and `day_before` give the trend (the 24 hours before `until`, and the 24 before).
--
-- Read on the table, not the FINAL view (grouping needs no merged rows to be fast), yet each
-- violation counted once by its id, as in violations_unique: a replayed batch or a violation
-- emitted twice at two offsets (two rows, one id, until a merge folds them) counts once. The
-- severity is the latest violation's; `uniq` of subjects is exact below 65,536 of them. The ids
-- are counted by a 64-bit hash, about 30% faster than the strings (whose set keeps 128-bit
-- hashes); two of a million ids collide with a chance of about 1 in 40 million.
WITH
    {until:DateTime64(3, 'UTC')} - INTERVAL 1 DAY AS last_day_start,
    {until:DateTime64(3, 'UTC')} - INTERVAL 2 DAY AS day_before_start
SELECT
    rule,
    service,
    purpose,
    destination_kind,
    argMax(severity, occurred_at) AS severity,
    toUInt64(uniqExact(cityHash64(violation_id))) AS violations,
    toUInt64(uniq(subject_id)) AS subjects,
    min(occurred_at) AS first_seen,
    max(occurred_at) AS last_seen,
    toUInt64(uniqExactIf(cityHash64(violation_id), occurred_at >= last_day_start)) AS last_day,
    toUInt64(uniqExactIf(
        cityHash64(violation_id), occurred_at < last_day_start AND occurred_at >= day_before_start
    )) AS day_before
FROM violations
WHERE mode = 'active'
  AND occurred_at >= {since:DateTime64(3, 'UTC')}
  AND occurred_at < {until:DateTime64(3, 'UTC')}
GROUP BY rule, service, purpose, destination_kind
ORDER BY last_seen DESC, rule, service, purpose, destination_kind
