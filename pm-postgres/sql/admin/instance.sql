-- One instance of a process, with the partition its id falls in among the
-- process's partitions (pm.partition_of; NULL before the process has any)
-- and who owns that partition.
SELECT i.instance_id, i.state, i.version, i.status, i.schema_version, i.last_tx, i.last_position,
       i.updated_at, p.partition, c.partitions, p.owner, w.name AS owner_name,
       coalesce(p.owner IS NOT NULL AND p.lease_until > now(), false) AS leased
FROM pm.instances i
CROSS JOIN (SELECT nullif(count(*), 0)::integer AS partitions
            FROM pm.partitions WHERE process = $1) AS c
LEFT JOIN pm.partitions p
       ON p.process = i.process AND p.partition = pm.partition_of(i.instance_id, c.partitions)
LEFT JOIN pm.workers w ON w.process = p.process AND w.worker_id = p.owner
WHERE i.process = $1 AND i.instance_id = $2
