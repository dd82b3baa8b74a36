-- The console's event view (issue #23): a lookup by a key access_events is not sorted by.
--
-- The event view opens one event by id, the last column of access_events' sort key: a narrow
-- projection (id, service, time) finds its service and hour, with which the table's own key finds
-- the row (the console's event.sql); without it, that lookup scans the table (seconds at 10 M
-- events). Its granules are an eighth of the table's, so a query that reads everything sees
-- eight times the marks there and stays on the table (ClickHouse picks the fewer marks). A
-- ReplacingMergeTree keeps a projection only when told what to do at a merge that folds rows:
-- rebuild it from them.
--
-- The inbox and the subject view need nothing here: the inbox's grouping and the subject
-- lookups' bloom-filtered scans (001) stay under the console's target at 10 M events, while a
-- pre-aggregated inbox measured slower, a subject-ordered copy of access_events tripled its
-- bytes on disk and slowed every insert, and one of violations doubled that table's bytes to
-- save 4 ms (docs/performance.md).
ALTER TABLE ${database}.access_events
    MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE ${database}.access_events
    ADD PROJECTION IF NOT EXISTS by_event (
        SELECT event_id, service, occurred_at
        ORDER BY event_id
    ) WITH SETTINGS (index_granularity = 1024);

ALTER TABLE ${database}.access_events
    MATERIALIZE PROJECTION by_event SETTINGS mutations_sync = 1;
