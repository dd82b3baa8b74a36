-- The console's inbox, pre-aggregated (issue #23): active violations per issue fingerprint
-- (rule, service, purpose, destination kind) and hour, so the inbox merges a few thousand
-- states instead of grouping every violation of the window.
--
-- Every aggregate here is idempotent: the violations are counted as distinct violation ids, the
-- subjects as distinct pseudonyms (a sketch of hashes, never the ids), first and last seen are a
-- min and a max, the severity the one of the latest violation. So a row that reaches the table
-- twice changes no answer: a replayed sink batch (its insert deduplication token reaches this
-- view, as in 002, so it is not even written again), a violation the processor emitted twice at
-- two offsets (two rows, one violation id), or a row copied by the backfill below and by the
-- view both. A sum here would count each of those twice, for ever.
--
-- Existing rows are backfilled once with INSERT ... SELECT after the view exists (no POPULATE,
-- which would miss rows inserted while it runs); rows inserted meanwhile land twice, harmlessly.

CREATE TABLE IF NOT EXISTS ${database}.violation_issues_hourly
(
    rule LowCardinality(String),
    service LowCardinality(String),
    purpose LowCardinality(String),
    destination_kind LowCardinality(String),
    hour DateTime('UTC'),
    severity AggregateFunction(argMax, LowCardinality(String), DateTime64(3, 'UTC')),
    -- sipHash64 of each violation id: half the state of the strings' 128-bit hashes, and a
    -- collision in a 64-bit hash is out of reach at any realistic count.
    violations AggregateFunction(uniqExact, UInt64),
    subjects AggregateFunction(uniq, String),
    first_seen SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (rule, service, purpose, destination_kind, hour)
TTL hour + INTERVAL ${retention_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.violation_issues_hourly_mv
TO ${database}.violation_issues_hourly AS
SELECT
    rule,
    service,
    purpose,
    destination_kind,
    toDateTime(toStartOfHour(occurred_at), 'UTC') AS hour,
    argMaxState(severity, occurred_at) AS severity,
    uniqExactState(sipHash64(violation_id)) AS violations,
    uniqState(subject_id) AS subjects,
    min(occurred_at) AS first_seen,
    max(occurred_at) AS last_seen
FROM ${database}.violations
WHERE mode = 'active'
GROUP BY rule, service, purpose, destination_kind, hour;

INSERT INTO ${database}.violation_issues_hourly
SELECT
    rule,
    service,
    purpose,
    destination_kind,
    toDateTime(toStartOfHour(occurred_at), 'UTC') AS hour,
    argMaxState(severity, occurred_at) AS severity,
    uniqExactState(sipHash64(violation_id)) AS violations,
    uniqState(subject_id) AS subjects,
    min(occurred_at) AS first_seen,
    max(occurred_at) AS last_seen
FROM ${database}.violations
WHERE mode = 'active'
GROUP BY rule, service, purpose, destination_kind, hour;

-- The subject view (`dua subject`, the console) looks one pseudonym up across all services and
-- months: read in subject order, a projection answers from a few granules of each part instead
-- of the bloom-filtered scan of 001. It holds the columns of subject_accesses.sql (a query
-- naming a column it lacks reads the table: same answer, the slower scan). Its granules are an
-- eighth of the table's, so a query that reads everything sees eight times the marks there and
-- stays on the table: ClickHouse picks the projection with fewer marks, and without that a
-- scan such as the explorer's newest-first page was drawn onto subject order, slower. A
-- ReplacingMergeTree keeps a projection only when told what to do at a merge that folds rows:
-- rebuild it from them. The same holds for the two projections below.
ALTER TABLE ${database}.access_events
    MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE ${database}.access_events
    ADD PROJECTION IF NOT EXISTS by_subject (
        SELECT subject_id, occurred_at, service, actor_kind, actor_id, elements, purpose,
            processing, destination_kind, destination_name, violation_rules, violation_modes,
            event_id
        ORDER BY subject_id, occurred_at
    ) WITH SETTINGS (index_granularity = 1024);

ALTER TABLE ${database}.access_events
    MATERIALIZE PROJECTION by_subject SETTINGS mutations_sync = 1;

-- The event view opens one event by id, the last column of the sort key: this narrow projection
-- finds its service and hour, with which the table's own key finds the row (event.sql).
ALTER TABLE ${database}.access_events
    ADD PROJECTION IF NOT EXISTS by_event (
        SELECT event_id, service, occurred_at
        ORDER BY event_id
    ) WITH SETTINGS (index_granularity = 1024);

ALTER TABLE ${database}.access_events
    MATERIALIZE PROJECTION by_event SETTINGS mutations_sync = 1;

-- The subject view's violations (subject_violations.sql's columns), in subject order as well.
ALTER TABLE ${database}.violations
    MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE ${database}.violations
    ADD PROJECTION IF NOT EXISTS by_subject (
        SELECT subject_id, mode, occurred_at, rule, severity, service, purpose, destination_kind,
            elements, message, event_id, violation_id
        ORDER BY subject_id, occurred_at
    ) WITH SETTINGS (index_granularity = 1024);

ALTER TABLE ${database}.violations
    MATERIALIZE PROJECTION by_subject SETTINGS mutations_sync = 1;
