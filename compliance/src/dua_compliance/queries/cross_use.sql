-- Cross-use between services: data collected by one service (origin) used by another, and whether it was outside the cross-use scope.
SELECT
    origin_service,
    service,
    purpose,
    count() AS accesses,
    countIf(has(violation_rules, 'cross_use_out_of_scope')) AS out_of_scope,
    arrayStringConcat(arraySort(groupUniqArrayArray(elements)), ',') AS elements,
    min(occurred_at) AS first_seen,
    max(occurred_at) AS last_seen
FROM access_events_unique
WHERE occurred_at >= {since:DateTime64(3, 'UTC')}
  AND origin_service != ''
  AND origin_service != service
GROUP BY origin_service, service, purpose
ORDER BY accesses DESC, origin_service, service, purpose
