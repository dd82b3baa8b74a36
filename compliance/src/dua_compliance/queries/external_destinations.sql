-- Data sent outside the company's services: to clients, ad platforms, employers or the public, with the personal elements involved.
SELECT
    destination_kind,
    destination_name,
    service,
    purpose,
    count() AS accesses,
    countIf(has(element_categories, 'personal')) AS with_personal_data,
    countIf(length(violation_rules) > 0) AS with_violations,
    arrayStringConcat(arraySort(groupUniqArrayArray(arrayFilter((e, c) -> c = 'personal', elements, element_categories))), ',') AS personal_elements
FROM access_events_unique
WHERE occurred_at >= {since:DateTime64(3, 'UTC')}
  AND destination_kind IN ('CLIENT', 'AD_PLATFORM', 'EMPLOYER', 'PUBLIC')
GROUP BY destination_kind, destination_name, service, purpose
ORDER BY destination_kind, accesses DESC, destination_name, service, purpose
