-- The audit trail: one row per tagged access event, per violation, per rejected input.
--
-- Exactly-once as queries see it takes two layers:
-- * the sink inserts each partition's offset range with a deterministic
--   insert_deduplication_token, and the dedup window below makes a replayed range a no-op
--   (materialized views downstream are deduplicated with it);
-- * ReplacingMergeTree on the event's own id, read through the *_unique views, hides a record
--   the processor itself emitted twice (at two offsets), which no token can recognise.
--
-- Empty strings stand for absent values (no subject, no purpose, no origin service): Nullable
-- columns cost a mask per row and every query would need two spellings of "none".

CREATE TABLE IF NOT EXISTS ${database}.access_events
(
    event_id String,
    occurred_at DateTime64(3, 'UTC'),
    processed_at DateTime64(3, 'UTC'),
    policy_version LowCardinality(String),
    service LowCardinality(String),
    actor_kind LowCardinality(String),
    actor_id String,
    subject_id String,
    elements Array(LowCardinality(String)),
    element_categories Array(LowCardinality(String)),
    element_sensitivities Array(LowCardinality(String)),
    purpose LowCardinality(String),
    purpose_category LowCardinality(String),
    purpose_known Bool,
    operation LowCardinality(String),
    processing LowCardinality(String),
    destination_kind LowCardinality(String),
    destination_name String,
    origin_service LowCardinality(String),
    targeting_opt_out Bool,
    publication_consent Bool,
    payroll_other_use_consent Bool,
    record_count Int32,
    trace_id String,
    attributes Map(LowCardinality(String), String),
    violation_rules Array(LowCardinality(String)),
    violation_severities Array(LowCardinality(String)),
    violation_modes Array(LowCardinality(String)),
    source_partition Int32,
    source_offset Int64,
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3),
    -- `dua subject` looks one pseudonym up across all services and months.
    INDEX subject_idx subject_id TYPE bloom_filter(0.01) GRANULARITY 4,
    -- payroll_access and friends filter on element codes.
    INDEX elements_idx elements TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
-- Most questions are "which service did what, when"; event_id last makes the key unique per
-- event, which ReplacingMergeTree needs to fold a re-emitted event into one row.
ORDER BY (service, toStartOfHour(occurred_at), event_id)
TTL toDateTime(occurred_at) + INTERVAL ${retention_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ${database}.violations
(
    violation_id String,
    event_id String,
    occurred_at DateTime64(3, 'UTC'),
    detected_at DateTime64(3, 'UTC'),
    policy_version LowCardinality(String),
    rule LowCardinality(String),
    severity LowCardinality(String),
    mode LowCardinality(String),
    service LowCardinality(String),
    actor_kind LowCardinality(String),
    actor_id String,
    subject_id String,
    purpose LowCardinality(String),
    purpose_category LowCardinality(String),
    destination_kind LowCardinality(String),
    elements Array(LowCardinality(String)),
    message String,
    trace_id String,
    source_partition Int32,
    source_offset Int64,
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX subject_idx subject_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
-- Violations are read by rule and service first (dashboards, violations_by_rule_service).
ORDER BY (rule, service, toStartOfHour(occurred_at), violation_id)
TTL toDateTime(occurred_at) + INTERVAL ${retention_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ${database}.rejected_events
(
    rejected_at DateTime64(3, 'UTC'),
    step_id LowCardinality(String),
    reason LowCardinality(String),
    detail String,
    source_topic LowCardinality(String),
    source_partition Int32,
    source_offset Int64,
    payload_size Int32,
    -- At most the first 1024 bytes: enough to recognise a producer's bug, not a data copy.
    payload_prefix String,
    key String,
    -- Where the sink read this row: the DLQ topic, or a pipeline topic it could not decode.
    received_topic LowCardinality(String),
    received_partition Int32,
    received_offset Int64,
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(rejected_at)
ORDER BY (reason, rejected_at)
TTL toDateTime(rejected_at) + INTERVAL ${retention_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;

-- The sink's batch plan: each partition offset range it is about to write, recorded before the
-- write. After a crash the sink cuts its batches along these ranges again, so a redelivered
-- range carries the same deduplication token as the first attempt.
CREATE TABLE IF NOT EXISTS ${database}.sink_batches
(
    consumer_group LowCardinality(String),
    topic LowCardinality(String),
    partition Int32,
    first_offset Int64,
    last_offset Int64,
    messages UInt32,
    digest String,
    planned_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(planned_at)
ORDER BY (consumer_group, topic, partition, first_offset)
TTL toDateTime(planned_at) + INTERVAL 30 DAY;

-- What queries read: one row per event / violation even before background merges ran.
CREATE VIEW IF NOT EXISTS ${database}.access_events_unique AS
SELECT * FROM ${database}.access_events FINAL;

CREATE VIEW IF NOT EXISTS ${database}.violations_unique AS
SELECT * FROM ${database}.violations FINAL;
