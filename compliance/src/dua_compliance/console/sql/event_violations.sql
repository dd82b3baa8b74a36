-- The violations one access event raised, with the policy version that decided them. Read on
-- the table, each violation kept once (its newest copy, as the FINAL view would), which is much
-- cheaper than FINAL over every violation.
SELECT rule, severity, mode, policy_version, elements, message, violation_id
FROM violations
WHERE event_id = {event_id:String}
ORDER BY rule, violation_id, inserted_at DESC
LIMIT 1 BY violation_id
