-- The free-text fields of one run's events, as the queries see them.
SELECT attributes['note'] AS note, trace_id
FROM access_events_unique
WHERE attributes['sim_run'] = {run:String}
ORDER BY note
