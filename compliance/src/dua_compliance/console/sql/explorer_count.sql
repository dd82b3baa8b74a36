-- About how many access events match the explorer's filter: counted on the table, so a row
-- emitted twice and not yet merged counts twice (exports read the deduplicated view).
SELECT count() AS events FROM access_events WHERE ${filter}
