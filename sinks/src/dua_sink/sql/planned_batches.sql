-- Batch ranges the sink planned for one partition and may not have committed yet, with the
-- write that stored (or was to store) each ('' for plans older than migration 007).
SELECT first_offset, last_offset, messages, digest, write_id
FROM ${database}.sink_batches FINAL
WHERE consumer_group = {group:String}
  AND topic = {topic:String}
  AND partition = {partition:Int32}
  AND last_offset >= {from_offset:Int64}
ORDER BY first_offset
