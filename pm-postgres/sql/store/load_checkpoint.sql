-- The checkpoint of one process in one source.
SELECT transaction_id, position
FROM pm.checkpoints
WHERE process = $1 AND source = $2
