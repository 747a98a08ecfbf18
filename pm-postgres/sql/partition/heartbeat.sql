-- Records that a worker is alive until now() + $4 milliseconds.
INSERT INTO pm.workers (process, worker_id, name, heartbeat_at, lease_until)
VALUES ($1, $2, $3, now(), now() + make_interval(secs => $4::double precision / 1000))
ON CONFLICT (process, worker_id) DO UPDATE
SET name = excluded.name, heartbeat_at = excluded.heartbeat_at, lease_until = excluded.lease_until
