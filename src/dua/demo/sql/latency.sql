-- From emit (occurred_at, stamped by the SDK) to queryable (inserted_at, stamped by ClickHouse);
-- not for the history the simulator backfills (sent now, stamped days ago).
SELECT
    quantileExact(0.5)(dateDiff('millisecond', occurred_at, inserted_at)) AS p50_ms,
    quantileExact(0.99)(dateDiff('millisecond', occurred_at, inserted_at)) AS p99_ms
FROM access_events_unique
WHERE attributes['sim_run'] = {run:String}
  AND attributes['sim_backfill'] = ''
