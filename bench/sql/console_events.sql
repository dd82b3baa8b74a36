-- Synthetic access events for the console benchmark: ${events} rows over the last 30 days,
-- seven services, five purpose shapes, one subject in 100,000 the known one, one event in eleven
-- with a violation (rule by shape).
INSERT INTO ${database}.access_events
(
    event_id, occurred_at, processed_at, policy_version, service, actor_kind, actor_id,
    subject_id, elements, element_categories, element_sensitivities, purpose, purpose_category,
    purpose_known, operation, processing, destination_kind, destination_name, origin_service,
    targeting_opt_out, publication_consent, payroll_other_use_consent, record_count, trace_id,
    attributes, violation_rules, violation_severities, violation_modes, source_partition,
    source_offset
)
SELECT
    concat('bench-', toString(number)) AS event_id,
    toDateTime64(now() - toIntervalSecond(number % 2592000), 3, 'UTC') AS occurred_at,
    occurred_at AS processed_at,
    'bench-1' AS policy_version,
    ['zexy-enmusubi', 'hotpepper-beauty', 'carsensor', 'jalan', 'hotpepper-gourmet', 'rikunabi', 'airwork-payroll'][number % 7 + 1] AS service,
    'SERVICE' AS actor_kind,
    concat(service, '-api') AS actor_id,
    if(number % 100000 = 42, '${subject}', lower(hex(SHA256(toString(number % 1000000))))) AS subject_id,
    [['user.account.id', 'user.content.message'], ['user.name', 'user.financial.salary'], ['user.behavior.usage_history', 'user.behavior.browsing_history'], ['user.behavior.browsing_history', 'user.device.ad_id'], ['user.content.review']][number % 5 + 1] AS elements,
    [['personal', 'personal'], ['personal', 'personal'], ['informative', 'informative'], ['informative', 'informative'], ['informative']][number % 5 + 1] AS element_categories,
    arrayMap(x -> 'normal', elements) AS element_sensitivities,
    ['service.user_messaging', 'marketing.campaign_notice', 'research.profiling', 'marketing.targeted_advertising', 'improvement.support_quality'][number % 5 + 1] AS purpose,
    splitByChar('.', purpose)[1] AS purpose_category,
    true AS purpose_known,
    'READ' AS operation,
    if(number % 5 = 2, 'RAW', 'PSEUDONYMIZED') AS processing,
    if(number % 5 = 3, 'AD_PLATFORM', 'INTERNAL') AS destination_kind,
    if(number % 5 = 3, 'adnet', '') AS destination_name,
    '' AS origin_service,
    false, false, false,
    1 AS record_count,
    '' AS trace_id,
    map() AS attributes,
    if(number % 11 = 0, [['message_content_misuse'], ['payroll_data_misuse'], ['identifiable_profiling'], ['targeting_opted_out'], ['bulk_access']][number % 5 + 1], []) AS violation_rules,
    if(number % 11 = 0, [['high'], ['critical'], ['medium'], ['high'], ['medium']][number % 5 + 1], []) AS violation_severities,
    arrayMap(x -> 'active', violation_rules) AS violation_modes,
    0 AS source_partition,
    toInt64(number) AS source_offset
FROM numbers(${events})
