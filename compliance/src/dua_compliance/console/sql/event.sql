-- One access event with all its fields. Its id is the last column of the table's sort key, so
-- the `by_event` projection (migration 006) first finds the event's service and hour, and the
-- key then leads to a granule or two instead of a scan. Of copies of one event (emitted twice,
-- not yet merged) the newest insert is kept, the row the FINAL view would show. The sink's
-- write mark (`sink_write`, migration 007) is bookkeeping, not the event's.
WITH (
    SELECT (any(service), toStartOfHour(any(occurred_at)))
    FROM access_events
    WHERE event_id = {event_id:String}
) AS found
SELECT * EXCEPT (sink_write)
FROM access_events
WHERE service = found.1
  AND toStartOfHour(occurred_at) = found.2
  AND event_id = {event_id:String}
ORDER BY inserted_at DESC
LIMIT 1
