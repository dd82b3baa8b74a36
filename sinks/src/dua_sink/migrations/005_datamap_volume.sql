-- The observed data map and the hourly volumes the anomaly baseline reads (issue #24).
--
-- Both are hourly rollups of access_events kept by materialized views, so the map of weeks and
-- the seasonal baseline of weeks read thousands of rows, not millions. A replayed sink batch
-- carries its insert deduplication token into these views as into 002's, so a replay adds
-- nothing here either. (An event the processor itself emitted twice, at two offsets, is
-- counted twice in `accesses`, as in access_hourly; the subject sketches and first/last seen
-- are unaffected.)
--
-- Existing rows are backfilled once: the views are created first, then a cutoff is recorded
-- (once: a run again keeps the first), and the rows inserted before it are copied with
-- INSERT ... SELECT (no POPULATE, which would miss the rows inserted while it runs). The copy is
-- the same on a second run and names a deduplication token, so a migration interrupted after
-- the copy and run again does not copy twice. Only a sink writing during `dua db migrate`, in
-- the milliseconds between a view's creation and the cutoff, could have rows counted twice; the
-- sink itself migrates before it consumes.

CREATE TABLE IF NOT EXISTS ${database}.backfill_cutoffs
(
    name LowCardinality(String),
    cutoff DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY name;

-- Per hour x service x purpose x element (its data category) x destination x processing.
CREATE TABLE IF NOT EXISTS ${database}.datamap_hourly
(
    hour DateTime('UTC'),
    service LowCardinality(String),
    purpose LowCardinality(String),
    purpose_category LowCardinality(String),
    element LowCardinality(String),
    category LowCardinality(String),
    destination_kind LowCardinality(String),
    destination_name LowCardinality(String),
    processing LowCardinality(String),
    first_seen SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    accesses SimpleAggregateFunction(sum, UInt64),
    -- A sketch of the subjects' pseudonyms (hashes, never the ids); events without a subject
    -- are not counted.
    subjects AggregateFunction(uniqIf, String, UInt8)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (service, purpose, element, destination_kind, destination_name, processing, category, purpose_category, hour)
TTL hour + INTERVAL ${retention_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.datamap_hourly_mv TO ${database}.datamap_hourly AS
SELECT
    toDateTime(toStartOfHour(occurred_at), 'UTC') AS hour,
    service,
    purpose,
    purpose_category,
    element,
    category,
    destination_kind,
    destination_name,
    processing,
    min(occurred_at) AS first_seen,
    max(occurred_at) AS last_seen,
    count() AS accesses,
    uniqIfState(subject_id, subject_id != '') AS subjects
FROM ${database}.access_events
ARRAY JOIN elements AS element, element_categories AS category
GROUP BY hour, service, purpose, purpose_category, element, category, destination_kind, destination_name, processing;

INSERT INTO ${database}.backfill_cutoffs
SELECT 'datamap_hourly', now64(3, 'UTC')
WHERE (SELECT count() FROM ${database}.backfill_cutoffs WHERE name = 'datamap_hourly') = 0;

INSERT INTO ${database}.datamap_hourly
SETTINGS insert_deduplication_token = '005_datamap_hourly_backfill'
SELECT
    toDateTime(toStartOfHour(occurred_at), 'UTC') AS hour,
    service,
    purpose,
    purpose_category,
    element,
    category,
    destination_kind,
    destination_name,
    processing,
    min(occurred_at) AS first_seen,
    max(occurred_at) AS last_seen,
    count() AS accesses,
    uniqIfState(subject_id, subject_id != '') AS subjects
FROM ${database}.access_events
ARRAY JOIN elements AS element, element_categories AS category
WHERE inserted_at < (SELECT min(cutoff) FROM ${database}.backfill_cutoffs WHERE name = 'datamap_hourly')
GROUP BY hour, service, purpose, purpose_category, element, category, destination_kind, destination_name, processing
ORDER BY service, purpose, element, destination_kind, destination_name, processing, category, purpose_category, hour;

-- Per hour x service x purpose category x data category: the events that touched at least one
-- element of the category, their records and their subjects (the anomaly baseline's series).
CREATE TABLE IF NOT EXISTS ${database}.volume_hourly
(
    hour DateTime('UTC'),
    service LowCardinality(String),
    purpose_category LowCardinality(String),
    category LowCardinality(String),
    accesses SimpleAggregateFunction(sum, UInt64),
    records SimpleAggregateFunction(sum, UInt64),
    subjects AggregateFunction(uniqIf, String, UInt8)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (service, purpose_category, category, hour)
TTL hour + INTERVAL ${retention_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.volume_hourly_mv TO ${database}.volume_hourly AS
SELECT
    toDateTime(toStartOfHour(occurred_at), 'UTC') AS hour,
    service,
    purpose_category,
    category,
    count() AS accesses,
    sum(toUInt64(greatest(record_count, 0))) AS records,
    uniqIfState(subject_id, subject_id != '') AS subjects
FROM ${database}.access_events
ARRAY JOIN arrayDistinct(element_categories) AS category
GROUP BY hour, service, purpose_category, category;

INSERT INTO ${database}.backfill_cutoffs
SELECT 'volume_hourly', now64(3, 'UTC')
WHERE (SELECT count() FROM ${database}.backfill_cutoffs WHERE name = 'volume_hourly') = 0;

INSERT INTO ${database}.volume_hourly
SETTINGS insert_deduplication_token = '005_volume_hourly_backfill'
SELECT
    toDateTime(toStartOfHour(occurred_at), 'UTC') AS hour,
    service,
    purpose_category,
    category,
    count() AS accesses,
    sum(toUInt64(greatest(record_count, 0))) AS records,
    uniqIfState(subject_id, subject_id != '') AS subjects
FROM ${database}.access_events
ARRAY JOIN arrayDistinct(element_categories) AS category
WHERE inserted_at < (SELECT min(cutoff) FROM ${database}.backfill_cutoffs WHERE name = 'volume_hourly')
GROUP BY hour, service, purpose_category, category
ORDER BY service, purpose_category, category, hour;
