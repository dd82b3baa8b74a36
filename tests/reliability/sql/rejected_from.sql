-- Rejected inputs that came from one source topic (the scenario's own raw topic).
SELECT count() AS rejected
FROM rejected_events
WHERE source_topic = {topic:String}
