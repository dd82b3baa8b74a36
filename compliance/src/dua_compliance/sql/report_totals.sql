-- Headline numbers of the report window.
SELECT
    (SELECT count() FROM access_events_unique WHERE occurred_at >= {since:DateTime64(3, 'UTC')}) AS events,
    (SELECT uniqExact(service) FROM access_events_unique WHERE occurred_at >= {since:DateTime64(3, 'UTC')}) AS services,
    (SELECT countIf(mode = 'active') FROM violations_unique WHERE occurred_at >= {since:DateTime64(3, 'UTC')}) AS violations,
    (SELECT countIf(mode = 'shadow') FROM violations_unique WHERE occurred_at >= {since:DateTime64(3, 'UTC')}) AS shadow_findings,
    (SELECT countIf(mode = 'active' AND severity = 'critical') FROM violations_unique WHERE occurred_at >= {since:DateTime64(3, 'UTC')}) AS critical,
    (SELECT count() FROM rejected_events WHERE rejected_at >= {since:DateTime64(3, 'UTC')}) AS rejected
