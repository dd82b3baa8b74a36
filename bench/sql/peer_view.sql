-- The stateless part of the policy in SQL: purpose category (the part before the dot),
-- element categories from the default policy's catalog, and three stateless rules
-- (personal_data_to_ad_platform, undeclared_purpose, unclassified_element). A subset of
-- what the processor computes: no permitted-element matrix, no consent, no stateful rules.
CREATE MATERIALIZED VIEW bench_peer.tag TO bench_peer.tagged AS
SELECT
    event_id,
    occurred_at,
    now64(3, 'UTC') AS inserted_at,
    service,
    ifNull(purpose, '') AS purpose,
    splitByChar('.', ifNull(purpose, ''))[1] AS purpose_category,
    elements,
    arrayMap(code -> transform(code, $element_codes, $element_categories, ''), elements)
        AS element_categories,
    arrayFilter(rule -> rule != '', [
        if(destination.kind = 'AD_PLATFORM' AND has(element_categories, 'personal'),
            'personal_data_to_ad_platform', ''),
        if(purpose IS NULL OR NOT has($purpose_codes, assumeNotNull(purpose)),
            'undeclared_purpose', ''),
        if(has(element_categories, ''), 'unclassified_element', '')
    ]) AS violations
FROM bench_peer.raw_queue
