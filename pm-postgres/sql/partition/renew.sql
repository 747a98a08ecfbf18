-- Extends worker $2's leases on the partitions ($3) it holds at epochs ($4)
-- by $5 milliseconds; returns those still held, with their checkpoints.
UPDATE pm.partitions p
SET lease_until = now() + make_interval(secs => $5::double precision / 1000)
FROM unnest($3::integer[], $4::bigint[]) AS h (partition, epoch)
WHERE p.process = $1 AND p.partition = h.partition AND p.owner = $2 AND p.epoch = h.epoch
RETURNING p.partition, p.epoch, p.checkpoint_tx, p.checkpoint_position
