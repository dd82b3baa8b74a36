-- 1 when the migrations ledger exists in the database, else 0.
SELECT count() AS present
FROM system.tables
WHERE database = {database:String} AND name = 'schema_migrations'
