-- Materialized aggregates for dashboards and reports, filled as rows arrive.
-- A replayed sink batch is deduplicated here too (the insert's token reaches the views).

CREATE TABLE IF NOT EXISTS ${database}.access_hourly
(
    hour DateTime('UTC'),
    service LowCardinality(String),
    purpose LowCardinality(String),
    purpose_category LowCardinality(String),
    element LowCardinality(String),
    category LowCardinality(String),
    events UInt64,
    records UInt64
)
ENGINE = SummingMergeTree((events, records))
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, service, purpose, purpose_category, element, category)
TTL hour + INTERVAL ${retention_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;

-- One count per element of each event: "accesses to user.name for marketing.* this hour".
CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.access_hourly_mv TO ${database}.access_hourly AS
SELECT
    toDateTime(toStartOfHour(occurred_at), 'UTC') AS hour,
    service,
    purpose,
    purpose_category,
    element,
    category,
    count() AS events,
    sum(toUInt64(greatest(record_count, 0))) AS records
FROM ${database}.access_events
ARRAY JOIN elements AS element, element_categories AS category
GROUP BY hour, service, purpose, purpose_category, element, category;

CREATE TABLE IF NOT EXISTS ${database}.violations_daily
(
    day Date,
    rule LowCardinality(String),
    severity LowCardinality(String),
    service LowCardinality(String),
    mode LowCardinality(String),
    violations UInt64
)
ENGINE = SummingMergeTree(violations)
PARTITION BY toYYYYMM(day)
ORDER BY (day, rule, severity, service, mode)
TTL day + INTERVAL ${retention_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.violations_daily_mv TO ${database}.violations_daily AS
SELECT
    toDate(occurred_at, 'UTC') AS day,
    rule,
    severity,
    service,
    mode,
    count() AS violations
FROM ${database}.violations
GROUP BY day, rule, severity, service, mode;
