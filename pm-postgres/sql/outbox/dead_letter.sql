-- Moves a command to the dead letters, fenced on the lease.
WITH moved AS (
    DELETE FROM pm.outbox
    WHERE id = $2 AND lease_id = $1
    RETURNING id, process, instance_id, command_type, payload, created_at, attempts
)
INSERT INTO pm.dead_letters (id, process, instance_id, command_type, payload, created_at, attempts, error)
SELECT id, process, instance_id, command_type, payload, created_at, attempts + 1, $3
FROM moved
ON CONFLICT (id) DO NOTHING
