-- The latest violations of one issue, with the event each came from.
SELECT occurred_at, severity, subject_id, actor_id, elements, message, policy_version, event_id
FROM violations_unique
WHERE mode = 'active'
  AND rule = {rule:String}
  AND service = {service:String}
  AND purpose = {purpose:String}
  AND destination_kind = {destination_kind:String}
  AND occurred_at >= {since:DateTime64(3, 'UTC')}
ORDER BY occurred_at DESC, violation_id
LIMIT 50
