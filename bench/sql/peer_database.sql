-- The peer's own database: the Kafka queue, the tagged rows and the view between them.
CREATE DATABASE IF NOT EXISTS bench_peer
