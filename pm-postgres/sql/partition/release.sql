-- Gives up worker $2's partitions ($3) held at epochs ($4): free to claim now.
UPDATE pm.partitions p
SET owner = NULL, lease_until = now(), updated_at = now()
FROM unnest($3::integer[], $4::bigint[]) AS h (partition, epoch)
WHERE p.process = $1 AND p.partition = h.partition AND p.owner = $2 AND p.epoch = h.epoch
