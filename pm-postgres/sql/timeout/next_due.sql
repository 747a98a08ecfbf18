-- When the next timeout of an active instance in the partitions $3 (of $2)
-- is due.
SELECT min(t.due_at)
FROM pm.timeouts t
JOIN pm.instances i ON i.process = t.process AND i.instance_id = t.instance_id
WHERE t.process = $1
  AND i.status = 'active'
  AND pm.partition_of(t.instance_id, $2) = ANY ($3::integer[])
