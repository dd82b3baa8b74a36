-- Accesses of one demo run by purpose category and data category of the elements touched.
SELECT
    if(purpose_category = '', '(undeclared)', purpose_category) AS purpose_category,
    category,
    count() AS element_accesses
FROM access_events_unique
ARRAY JOIN element_categories AS category
WHERE attributes['sim_run'] = {run:String}
GROUP BY purpose_category, category
ORDER BY purpose_category, category
