-- What the peer computed: rows, violations by rule, and emit-to-queryable latency.
SELECT
    count() AS row_count,
    countIf(has(violations, 'personal_data_to_ad_platform')) AS ad_platform,
    countIf(has(violations, 'undeclared_purpose')) AS undeclared,
    countIf(has(violations, 'unclassified_element')) AS unclassified
FROM bench_peer.tagged
