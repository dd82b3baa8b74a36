-- Informative data used to identify people: informative elements read for identity verification, or JOINed with personal elements, outside fraud prevention.
SELECT
    service,
    purpose,
    operation,
    arrayStringConcat(arraySort(groupUniqArrayArray(arrayFilter((e, c) -> c = 'informative', elements, element_categories))), ',') AS informative_elements,
    count() AS accesses,
    countIf(has(violation_rules, 'informative_used_for_identification')) AS flagged,
    min(occurred_at) AS first_seen,
    max(occurred_at) AS last_seen
FROM access_events_unique
WHERE occurred_at >= {since:DateTime64(3, 'UTC')}
  AND purpose_category != 'fraud_prevention'
  AND has(element_categories, 'informative')
  AND (
        purpose = 'service.identity_verification'
        OR (operation = 'JOIN' AND has(element_categories, 'personal'))
  )
GROUP BY service, purpose, operation
ORDER BY accesses DESC, service, purpose
