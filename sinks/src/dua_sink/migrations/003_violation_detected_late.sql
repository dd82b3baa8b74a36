-- Violation v2: `detected_late_ms`, how long after the access was judged a consent change
-- that arrived late found the violation (0: found on time). Rows written before are on time.
ALTER TABLE ${database}.violations
    ADD COLUMN IF NOT EXISTS detected_late_ms Int64 DEFAULT 0 AFTER trace_id;

-- A view's `*` is expanded when the view is created: made again, it shows the new column.
DROP VIEW IF EXISTS ${database}.violations_unique;

CREATE VIEW IF NOT EXISTS ${database}.violations_unique AS
SELECT * FROM ${database}.violations FINAL;
