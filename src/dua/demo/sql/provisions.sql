-- APPI provision records of one demo run (Art. 29), and among them the informative data given
-- to recipients that can link it (Art. 31): confirmed (consent in force) or not.
SELECT
    count() AS provisions,
    countIf(linkable AND link_consent) AS confirmed,
    countIf(linkable AND NOT link_consent) AS unconfirmed
FROM appi_provisions FINAL
WHERE event_id IN (
    SELECT event_id FROM access_events_unique
    WHERE attributes['sim_run'] = {run:String}
)
