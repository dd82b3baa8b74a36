-- Each event of one run: which SDK sent it, its case, and the rules it violated (none: compliant).
SELECT
    e.attributes['sdk'] AS sdk,
    e.attributes['case'] AS case_name,
    arraySort(groupArrayIf(v.rule, v.rule != '')) AS rules
FROM access_events_unique AS e
LEFT JOIN violations_unique AS v ON v.event_id = e.event_id
WHERE e.attributes['sim_run'] = {run:String}
GROUP BY sdk, case_name
ORDER BY case_name, sdk
