-- The migrations recorded as applied, newest state per version.
SELECT version, name, checksum, applied_at
FROM ${database}.schema_migrations FINAL
ORDER BY version
