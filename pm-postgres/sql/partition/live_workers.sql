-- The workers of a process whose heartbeat has not lapsed, by id.
SELECT worker_id
FROM pm.workers
WHERE process = $1 AND lease_until > now()
ORDER BY worker_id
