-- What a refused fence found: owner, epoch and checkpoint of partitions $2.
SELECT partition, owner, epoch, checkpoint_tx, checkpoint_position
FROM pm.partitions
WHERE process = $1 AND partition = ANY ($2::integer[])
ORDER BY partition
