-- ClickHouse's Kafka table engine reading the raw events as JSONEachRow (the same events the
-- SDK sent; ClickHouse's Avro formats read neither our single-object `C3 01` framing nor,
-- without a schema registry, the Confluent framing).
CREATE TABLE bench_peer.raw_queue
(
    event_id String,
    occurred_at DateTime64(3, 'UTC'),
    service String,
    subject_id Nullable(String),
    elements Array(String),
    purpose Nullable(String),
    destination Tuple(kind String, name Nullable(String))
)
ENGINE = Kafka
SETTINGS
    kafka_broker_list = '$bootstrap',
    kafka_topic_list = '$topic',
    kafka_group_name = '$group',
    kafka_format = 'JSONEachRow',
    kafka_num_consumers = 1,
    kafka_max_block_size = 10000,
    kafka_flush_interval_ms = 250,
    kafka_skip_broken_messages = 0
