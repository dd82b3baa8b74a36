-- SQL-managed access control for data-usage-audit (run as an administrator, after
-- `dua db migrate`). The audit database is `dua`; replace it if DUA_CLICKHOUSE_DATABASE differs.
-- Then give people and processes a role, e.g.:
--   CREATE USER alice IDENTIFIED WITH sha256_password BY '...' DEFAULT ROLE dua_compliance_reader;
--   CREATE USER sink IDENTIFIED WITH sha256_password BY '...' DEFAULT ROLE dua_sink_writer;

-- Read-only: every audit table and view, nothing else.
CREATE ROLE IF NOT EXISTS dua_compliance_reader;
GRANT SELECT ON dua.* TO dua_compliance_reader;
GRANT SELECT ON system.tables TO dua_compliance_reader;

-- Insert-only writer for the sink; it may read only its batch plan, the schema ledger, and of
-- the audit tables the column saying which write stored a row (a replayed write asks what of
-- it landed): no event's content, no subject.
CREATE ROLE IF NOT EXISTS dua_sink_writer;
GRANT INSERT ON dua.access_events TO dua_sink_writer;
GRANT INSERT ON dua.violations TO dua_sink_writer;
GRANT INSERT ON dua.rejected_events TO dua_sink_writer;
GRANT INSERT ON dua.sink_batches TO dua_sink_writer;
GRANT INSERT ON dua.access_hourly TO dua_sink_writer;
GRANT INSERT ON dua.violations_daily TO dua_sink_writer;
GRANT INSERT ON dua.appi_provisions TO dua_sink_writer;
GRANT INSERT ON dua.datamap_hourly TO dua_sink_writer;
GRANT INSERT ON dua.volume_hourly TO dua_sink_writer;
GRANT SELECT ON dua.sink_batches TO dua_sink_writer;
GRANT SELECT ON dua.schema_migrations TO dua_sink_writer;
GRANT SELECT(sink_write) ON dua.access_events TO dua_sink_writer;
GRANT SELECT(sink_write) ON dua.violations TO dua_sink_writer;
GRANT SELECT(sink_write) ON dua.rejected_events TO dua_sink_writer;

-- A profile that keeps readers read-only even if a query asks otherwise.
CREATE SETTINGS PROFILE IF NOT EXISTS dua_compliance_readonly SETTINGS readonly = 1 TO dua_compliance_reader;
