-- APPI provision records (Art. 29, and the Art. 31 confirmations) in a time window, oldest
-- first, one page at a time after the last (occurred_at, event_id) of the previous page: the
-- pages stream a window of any size. Each event once (LIMIT 1 BY: an access the processor
-- emitted twice is one provision).
SELECT
    occurred_at,
    event_id,
    service,
    if(purpose = '', '(none)', purpose) AS purpose,
    subject_id,
    elements,
    recipient_kind,
    recipient_name,
    recipient_registered,
    recipient_address,
    recipient_representative,
    basis,
    linkable,
    link_consent,
    policy_version
FROM appi_provisions
WHERE occurred_at >= {since:DateTime64(3, 'UTC')}
  AND occurred_at < {until:DateTime64(3, 'UTC')}
  AND (occurred_at, event_id) > ({after_at:DateTime64(3, 'UTC')}, {after_id:String})
ORDER BY occurred_at, event_id
LIMIT 1 BY event_id
LIMIT {page:UInt32}
