-- Batch ranges the sink planned for one partition and may not have committed yet.
SELECT first_offset, last_offset, messages, digest
FROM ${database}.sink_batches FINAL
WHERE consumer_group = {group:String}
  AND topic = {topic:String}
  AND partition = {partition:Int32}
  AND last_offset >= {from_offset:Int64}
ORDER BY first_offset
