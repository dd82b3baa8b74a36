-- The TTL clause each audit table carries now.
SELECT name, engine_full
FROM system.tables
WHERE database = {database:String}
  AND name IN ('access_events', 'violations', 'rejected_events', 'access_hourly', 'violations_daily',
               'datamap_hourly', 'volume_hourly')
ORDER BY name
