-- Every active violation about one subject (by pseudonym), newest first, each kept once.
SELECT occurred_at, rule, severity, service, purpose, destination_kind, elements, message, event_id
FROM violations
WHERE subject_id = {subject:String} AND mode = 'active'
ORDER BY occurred_at DESC, violation_id
LIMIT 1 BY violation_id
