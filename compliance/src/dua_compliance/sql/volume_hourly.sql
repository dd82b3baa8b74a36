-- Accesses and distinct subjects per hour x service x purpose category x data category from
-- the hourly rollup (volume_hourly), over the window the anomaly scores and their seasonal
-- baselines need; hours without any access are absent (they count as 0).
SELECT
    service,
    purpose_category,
    category,
    hour,
    toUInt64(sum(accesses)) AS accesses,
    uniqIfMerge(subjects) AS subjects
FROM volume_hourly
WHERE hour >= {start:DateTime64(3, 'UTC')}
  AND hour < {end:DateTime64(3, 'UTC')}
GROUP BY service, purpose_category, category, hour
ORDER BY service, purpose_category, category, hour
