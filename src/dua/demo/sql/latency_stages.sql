-- The emit-to-queryable latency in its two stages: emit to tagged (processed_at, stamped by
-- the processor, the consent grace included) and tagged to queryable (inserted_at, the sink's
-- flush wait and insert). Each stage's own percentiles: they do not add up to the total's.
SELECT
    quantileExact(0.5)(dateDiff('millisecond', occurred_at, processed_at)) AS processor_p50_ms,
    quantileExact(0.99)(dateDiff('millisecond', occurred_at, processed_at)) AS processor_p99_ms,
    quantileExact(0.5)(dateDiff('millisecond', processed_at, inserted_at)) AS sink_p50_ms,
    quantileExact(0.99)(dateDiff('millisecond', processed_at, inserted_at)) AS sink_p99_ms
FROM access_events_unique
WHERE attributes['sim_run'] = {run:String}
  AND attributes['sim_backfill'] = ''
