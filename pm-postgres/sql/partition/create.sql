-- Creates a process's $3 partitions reading source $2, unless it has some.
-- Each starts at the process's checkpoint in pm.checkpoints, where an
-- engine of a version before partitions left it, or at the start.
INSERT INTO pm.partitions (process, partition, source, checkpoint_tx, checkpoint_position)
SELECT $1, n, $2, coalesce(c.transaction_id, 0), coalesce(c.position, 0)
FROM generate_series(0, $3::integer - 1) AS n
LEFT JOIN pm.checkpoints c ON c.process = $1 AND c.source = $2
WHERE NOT EXISTS (SELECT 1 FROM pm.partitions WHERE process = $1)
ON CONFLICT (process, partition) DO NOTHING
