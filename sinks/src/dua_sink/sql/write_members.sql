-- The ranges, of every partition, that each of these writes was planned to store: a replay
-- writes them together again (the same insert, the same tokens) when it has all of them.
SELECT write_id, topic, partition, first_offset, last_offset
FROM ${database}.sink_batches FINAL
WHERE consumer_group = {group:String}
  AND write_id IN {write_ids:Array(String)}
