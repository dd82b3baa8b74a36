-- Where the peer's view lands the tagged events.
CREATE TABLE bench_peer.tagged
(
    event_id String,
    occurred_at DateTime64(3, 'UTC'),
    inserted_at DateTime64(3, 'UTC'),
    service LowCardinality(String),
    purpose String,
    purpose_category LowCardinality(String),
    elements Array(String),
    element_categories Array(LowCardinality(String)),
    violations Array(LowCardinality(String))
)
ENGINE = MergeTree
ORDER BY (service, occurred_at)
