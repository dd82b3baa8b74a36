-- Every table and view of the audit database.
SELECT name
FROM system.tables
WHERE database = currentDatabase()
ORDER BY name
