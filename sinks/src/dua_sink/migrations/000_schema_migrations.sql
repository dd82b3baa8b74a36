-- The ledger of applied migrations: one row per version, with the checksum of its template so
-- an edited, already-applied migration is caught instead of silently diverging.
CREATE TABLE IF NOT EXISTS ${database}.schema_migrations
(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version;
