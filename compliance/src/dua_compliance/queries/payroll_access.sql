-- Who accessed payroll data (salary, bank account): which service and actor, for what purpose, sent where.
SELECT
    service,
    actor_kind,
    actor_id,
    purpose,
    processing,
    destination_kind,
    arrayStringConcat(
        arraySort(groupUniqArrayArray(arrayIntersect(elements, ['user.financial.salary', 'user.financial.bank_account']))),
        ','
    ) AS payroll_elements,
    count() AS accesses,
    countIf(length(violation_rules) > 0) AS with_violations,
    min(occurred_at) AS first_seen,
    max(occurred_at) AS last_seen
FROM access_events_unique
WHERE occurred_at >= {since:DateTime64(3, 'UTC')}
  AND hasAny(elements, ['user.financial.salary', 'user.financial.bank_account'])
GROUP BY service, actor_kind, actor_id, purpose, processing, destination_kind
ORDER BY accesses DESC, service, actor_id, purpose
