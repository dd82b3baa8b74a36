-- Accesses per purpose category × data category (element accesses, from the hourly aggregate).
SELECT
    if(purpose_category = '', '(none)', purpose_category) AS purpose_category,
    sumIf(events, category = 'personal') AS personal,
    sumIf(events, category = 'informative') AS informative,
    sumIf(events, category = 'unknown') AS unknown,
    sum(events) AS total
FROM access_hourly
WHERE hour >= toStartOfHour({since:DateTime64(3, 'UTC')})
GROUP BY purpose_category
ORDER BY total DESC, purpose_category
