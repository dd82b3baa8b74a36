-- Every access to one subject's data (by pseudonym) since a time, oldest first, with the
-- verdict of the policy (`dua subject`, the console's subject view). Read on the table with the
-- subject's bloom-filter index, each event kept once (LIMIT 1 BY), which is much cheaper than
-- the FINAL view.
SELECT
    occurred_at,
    service,
    actor_kind,
    actor_id,
    elements,
    if(purpose = '', '(none)', purpose) AS purpose,
    processing,
    if(destination_name = '', destination_kind, destination_kind || ':' || destination_name) AS destination,
    if(
        empty(arrayFilter((r, m) -> m = 'active', violation_rules, violation_modes)),
        'compliant',
        'violation: ' || arrayStringConcat(arrayFilter((r, m) -> m = 'active', violation_rules, violation_modes), ',')
    ) AS verdict,
    event_id
FROM access_events
WHERE subject_id = {subject:String}
  AND occurred_at >= {since:DateTime64(3, 'UTC')}
ORDER BY occurred_at, event_id
LIMIT 1 BY event_id
