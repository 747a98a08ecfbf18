-- Removes up to $4 completed instances of process $1 in the partitions $3
-- (of $2) that last changed more than $5 milliseconds ago (database
-- clock), oldest first.
DELETE FROM pm.instances i
WHERE i.ctid = ANY (ARRAY(
    SELECT d.ctid
    FROM pm.instances d
    WHERE d.process = $1
      AND d.status = 'completed'
      AND d.updated_at < now() - make_interval(secs => $5::double precision / 1000)
      AND pm.partition_of(d.instance_id, $2) = ANY ($3::integer[])
    ORDER BY d.updated_at
    LIMIT $4
    FOR UPDATE SKIP LOCKED
))
