-- Active violations grouped into issues: one per rule, service, purpose and destination kind.
-- `last_day` and `day_before` give the trend (the 24 hours before `until`, and the 24 before).
--
-- Read from the hourly issue states of migration 006, merged: each violation counted once by
-- its id (a violation emitted twice counts once, as in violations_unique); `uniq` of subjects
-- is exact below 65,536 of them. An hour cut by a bound of the window or of the trend (`since`,
-- `until`, one and two days before `until`) is not a whole bucket: those few hours are read
-- from `violations` itself and folded into the same states, so the answer is the raw one.
WITH
    {since:DateTime64(3, 'UTC')} AS window_start,
    {until:DateTime64(3, 'UTC')} AS window_end,
    window_end - INTERVAL 1 DAY AS last_day_start,
    window_end - INTERVAL 2 DAY AS day_before_start,
    [toStartOfHour(window_start), toStartOfHour(day_before_start), toStartOfHour(last_day_start),
     toStartOfHour(window_end)] AS cut_hours
SELECT
    rule,
    service,
    purpose,
    destination_kind,
    argMaxMerge(severity_state) AS severity,
    toUInt64(uniqExactMerge(violation_ids)) AS violations,
    toUInt64(uniqMerge(subject_ids)) AS subjects,
    min(earliest) AS first_seen,
    max(latest) AS last_seen,
    toUInt64(uniqExactMergeIf(violation_ids, part = 'last_day')) AS last_day,
    toUInt64(uniqExactMergeIf(violation_ids, part = 'day_before')) AS day_before
FROM
(
    SELECT
        rule, service, purpose, destination_kind,
        severity AS severity_state,
        violations AS violation_ids,
        subjects AS subject_ids,
        toDateTime64(first_seen, 3, 'UTC') AS earliest,
        toDateTime64(last_seen, 3, 'UTC') AS latest,
        multiIf(hour >= last_day_start, 'last_day', hour >= day_before_start, 'day_before', '')
            AS part
    FROM violation_issues_hourly
    WHERE hour >= window_start
      AND hour < toStartOfHour(window_end)
      AND NOT has(cut_hours, hour)
    UNION ALL
    SELECT
        rule, service, purpose, destination_kind,
        argMaxState(severity, occurred_at) AS severity_state,
        uniqExactState(sipHash64(violation_id)) AS violation_ids,
        uniqState(subject_id) AS subject_ids,
        min(occurred_at) AS earliest,
        max(occurred_at) AS latest,
        multiIf(
            occurred_at >= last_day_start, 'last_day',
            occurred_at >= day_before_start, 'day_before',
            ''
        ) AS part
    FROM violations
    WHERE mode = 'active'
      AND occurred_at >= window_start
      AND occurred_at < window_end
      AND has(cut_hours, toStartOfHour(occurred_at))
    GROUP BY rule, service, purpose, destination_kind, part
)
GROUP BY rule, service, purpose, destination_kind
ORDER BY last_seen DESC, rule, service, purpose, destination_kind
