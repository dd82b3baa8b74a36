-- One access event with all its fields.
SELECT * FROM access_events_unique WHERE event_id = {event_id:String} LIMIT 1
