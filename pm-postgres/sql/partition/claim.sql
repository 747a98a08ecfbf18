-- Claims up to $3 partitions of process $1 for worker $2 that nobody owns or
-- whose lease ran out, except those in $5, for $4 milliseconds. Each claim
-- adds one to the epoch, which fences the previous owner's commits. Rows
-- another transaction holds (a commit's fence) are skipped, not waited for.
UPDATE pm.partitions p
SET owner = $2,
    epoch = p.epoch + 1,
    lease_until = now() + make_interval(secs => $4::double precision / 1000),
    updated_at = now()
WHERE p.process = $1
  AND p.partition = ANY (ARRAY(
      SELECT f.partition
      FROM pm.partitions f
      WHERE f.process = $1
        AND (f.owner IS NULL OR f.lease_until <= now())
        AND NOT (f.partition = ANY ($5::integer[]))
      ORDER BY f.partition
      LIMIT $3
      FOR UPDATE SKIP LOCKED
  ))
RETURNING p.partition, p.epoch, p.checkpoint_tx, p.checkpoint_position
