-- When each purpose x element pair of the observed map was last seen (any service, destination,
-- processing): the other side of "declared but not seen for N days".
SELECT purpose, element, toDateTime64(max(last_seen), 3, 'UTC') AS last_seen
FROM datamap_hourly
GROUP BY purpose, element
ORDER BY purpose, element
