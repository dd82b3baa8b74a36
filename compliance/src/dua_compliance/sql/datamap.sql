-- The observed data map since a time: per service x purpose x element (its data category) x
-- destination x processing, first and last seen, accesses and distinct subjects, read from the
-- hourly rollup the sink's views keep (datamap_hourly), with the count of violations that say
-- the combination is not declared by the policy (rules in {undeclared_rules}, all modes: the
-- finding is the fact, the mode only decides whether it alerts).
SELECT
    service,
    purpose,
    purpose_category,
    element,
    category,
    destination_kind,
    destination_name,
    processing,
    toDateTime64(min(first_seen), 3, 'UTC') AS first_seen,
    toDateTime64(max(last_seen), 3, 'UTC') AS last_seen,
    toUInt64(sum(accesses)) AS accesses,
    uniqIfMerge(subjects) AS subjects,
    any(undeclared.violations) AS undeclared_violations
FROM datamap_hourly
LEFT JOIN
(
    SELECT service, purpose, element, count() AS violations
    FROM violations_unique
    ARRAY JOIN elements AS element
    WHERE rule IN {undeclared_rules:Array(String)}
      AND occurred_at >= {since:DateTime64(3, 'UTC')}
    GROUP BY service, purpose, element
) AS undeclared USING (service, purpose, element)
WHERE hour >= toStartOfHour({since:DateTime64(3, 'UTC')})
GROUP BY service, purpose, purpose_category, element, category, destination_kind, destination_name, processing
ORDER BY service, purpose, element, destination_kind, destination_name, processing
