-- Re-applies the retention setting to tables created under another one. The migrations set the
-- TTL when they create a table; these statements run only when system.tables shows a
-- different interval. materialize_ttl_after_modify=0 leaves old parts to their next merge
-- instead of rewriting every part now.
ALTER TABLE ${database}.access_events MODIFY TTL toDateTime(occurred_at) + INTERVAL ${retention_days} DAY;
ALTER TABLE ${database}.violations MODIFY TTL toDateTime(occurred_at) + INTERVAL ${retention_days} DAY;
ALTER TABLE ${database}.rejected_events MODIFY TTL toDateTime(rejected_at) + INTERVAL ${retention_days} DAY;
ALTER TABLE ${database}.access_hourly MODIFY TTL hour + INTERVAL ${retention_days} DAY;
ALTER TABLE ${database}.violations_daily MODIFY TTL day + INTERVAL ${retention_days} DAY;
ALTER TABLE ${database}.datamap_hourly MODIFY TTL hour + INTERVAL ${retention_days} DAY;
ALTER TABLE ${database}.volume_hourly MODIFY TTL hour + INTERVAL ${retention_days} DAY;
