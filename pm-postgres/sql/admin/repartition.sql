-- Spreads a process's instances over $2 partitions instead: the old rows
-- are replaced by new ones, all at the lowest old checkpoint (instances skip
-- the events they have already applied, so re-reading from there applies
-- nothing twice) and at an epoch above every old one (so a batch computed
-- under the old partitions is refused). Workers notice the new count at
-- their next heartbeat and claim the new partitions. Returns the new rows.
WITH old AS (
    DELETE FROM pm.partitions
    WHERE process = $1
    RETURNING source, epoch, checkpoint_tx, checkpoint_position
),
lowest AS (
    SELECT source, checkpoint_tx, checkpoint_position
    FROM old
    ORDER BY checkpoint_tx, checkpoint_position
    LIMIT 1
)
INSERT INTO pm.partitions (process, partition, source, epoch, checkpoint_tx, checkpoint_position)
SELECT $1, n, l.source, (SELECT max(epoch) FROM old) + 1, l.checkpoint_tx, l.checkpoint_position
FROM lowest l, generate_series(0, $2::integer - 1) AS n
RETURNING partition
