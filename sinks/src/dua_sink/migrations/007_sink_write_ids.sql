-- The sink writes a flush's segments of all partitions in one insert per table (issue #20):
-- inserts, not rows, are what ClickHouse pays for, once per part and materialized view. A range
-- replayed after a crash can then no longer bring back that insert's deduplication token by
-- itself (the insert also held other partitions' ranges, perhaps now another sink's). So the
-- plan records beside each range the write that stores it, and each row carries that write's
-- mark: a replay sends a write whole again when it has all its ranges (the same tokens), and
-- otherwise asks each table which of the write's marks it holds (one small query, on replay
-- only). Old rows and plans have '' (their ranges keep their own tokens, as before).
ALTER TABLE ${database}.access_events
    ADD COLUMN IF NOT EXISTS sink_write String DEFAULT '';

ALTER TABLE ${database}.violations
    ADD COLUMN IF NOT EXISTS sink_write String DEFAULT '';

ALTER TABLE ${database}.rejected_events
    ADD COLUMN IF NOT EXISTS sink_write String DEFAULT '';

ALTER TABLE ${database}.sink_batches
    ADD COLUMN IF NOT EXISTS write_id String DEFAULT '';
