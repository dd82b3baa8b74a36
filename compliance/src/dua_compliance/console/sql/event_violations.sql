-- The violations one access event raised, with the policy version that decided them.
SELECT rule, severity, mode, policy_version, elements, message, violation_id
FROM violations_unique
WHERE event_id = {event_id:String}
ORDER BY rule
