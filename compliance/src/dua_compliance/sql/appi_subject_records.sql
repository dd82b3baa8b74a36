-- The provision records of one person (by pseudonym), oldest first: what a disclosure request
-- under APPI Art. 33(5) asks for. Read with the subject's bloom-filter index, each event once.
SELECT
    occurred_at,
    service,
    if(purpose = '', '(none)', purpose) AS purpose,
    elements,
    recipient_kind,
    recipient_name,
    recipient_address,
    basis,
    multiIf(NOT linkable, '', link_consent, 'confirmed', 'not confirmed') AS art31_confirmation,
    event_id
FROM appi_provisions
WHERE subject_id = {subject:String}
ORDER BY occurred_at, event_id
LIMIT 1 BY event_id
