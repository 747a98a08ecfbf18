-- The first statement of every batch commit (G1, G7): moves each partition's
-- checkpoint from where the batch read ($5, $6) to where it ends ($7, $8),
-- only where worker $2 still owns it at the epoch ($4) it claimed and the
-- checkpoint is still the one it read from. A missing row rolls the whole
-- batch back. The row locks it takes hold until commit, so no claim can
-- take these partitions meanwhile.
UPDATE pm.partitions p
SET checkpoint_tx = f.to_tx, checkpoint_position = f.to_position, updated_at = now()
FROM unnest($3::integer[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
     AS f (partition, epoch, from_tx, from_position, to_tx, to_position)
WHERE p.process = $1
  AND p.partition = f.partition
  AND p.owner = $2
  AND p.epoch = f.epoch
  AND p.checkpoint_tx = f.from_tx
  AND p.checkpoint_position = f.from_position
RETURNING p.partition
