-- Projections for the console's lookups by a key the tables are not sorted by (issue #23).
--
-- The event view opens one event by id, the last column of access_events' sort key: a narrow
-- projection (id, service, time) finds its service and hour, with which the table's own key finds
-- the row (the console's event.sql); without it, that lookup scans the table (seconds at 10 M
-- events). Its granules are an eighth of the table's, so a query that reads everything sees
-- eight times the marks there and stays on the table (ClickHouse picks the fewer marks). A
-- ReplacingMergeTree keeps a projection only when told what to do at a merge that folds rows:
-- rebuild it from them.
--
-- The inbox and the subject view need none: the inbox's grouping and the subject lookup's
-- bloom-filtered scan (001) stay far under the console's target at 10 M events, while a
-- pre-aggregated inbox measured slower and a subject-ordered copy of access_events tripled its
-- bytes on disk and slowed every insert (docs/performance.md).
ALTER TABLE ${database}.access_events
    MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE ${database}.access_events
    ADD PROJECTION IF NOT EXISTS by_event (
        SELECT event_id, service, occurred_at
        ORDER BY event_id
    ) WITH SETTINGS (index_granularity = 1024);

ALTER TABLE ${database}.access_events
    MATERIALIZE PROJECTION by_event SETTINGS mutations_sync = 1;

-- The subject view's violations (subject_violations.sql's columns), in subject order.
ALTER TABLE ${database}.violations
    MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE ${database}.violations
    ADD PROJECTION IF NOT EXISTS by_subject (
        SELECT subject_id, mode, occurred_at, rule, severity, service, purpose, destination_kind,
            elements, message, event_id, violation_id
        ORDER BY subject_id, occurred_at
    ) WITH SETTINGS (index_granularity = 1024);

ALTER TABLE ${database}.violations
    MATERIALIZE PROJECTION by_subject SETTINGS mutations_sync = 1;
