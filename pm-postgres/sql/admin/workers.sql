-- The workers of a process and how long ago each last sent a heartbeat.
SELECT worker_id,
       name,
       started_at,
       heartbeat_at,
       lease_until > now() AS alive,
       extract(epoch FROM now() - heartbeat_at)::double precision AS seconds_since_heartbeat
FROM pm.workers
WHERE process = $1
ORDER BY worker_id
