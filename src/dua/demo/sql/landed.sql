-- Events of one demo run that are queryable, and how many rows they take (a difference is a
-- duplicate visible to queries).
SELECT
    uniqExact(event_id) AS events,
    count() AS row_count
FROM access_events_unique
WHERE attributes['sim_run'] = {run:String}
