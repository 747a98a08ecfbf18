-- The partitions of a process: owner (with the worker's name), epoch, lease
-- on the database clock, checkpoint, and, for the built-in log, how many
-- events lie beyond the checkpoint (of any family).
SELECT p.partition,
       p.owner,
       w.name AS owner_name,
       p.epoch,
       p.lease_until,
       (p.owner IS NOT NULL AND p.lease_until > now()) AS leased,
       extract(epoch FROM p.lease_until - now())::double precision AS lease_seconds_left,
       p.checkpoint_tx,
       p.checkpoint_position,
       p.updated_at,
       CASE WHEN p.source = 'pm.events' THEN (
           SELECT count(*) FROM pm.events e
           WHERE (e.transaction_id, e.position) > (p.checkpoint_tx::text::xid8, p.checkpoint_position)
       ) END AS events_beyond
FROM pm.partitions p
LEFT JOIN pm.workers w ON w.process = p.process AND w.worker_id = p.owner
WHERE p.process = $1
ORDER BY p.partition
