-- Moves commands to the dead letters with their errors, fenced on the lease.
WITH failed AS (
    SELECT * FROM unnest($2::uuid[], $3::text[]) AS f (id, error)
),
moved AS (
    DELETE FROM pm.outbox o
    USING failed f
    WHERE o.id = f.id AND o.lease_id = $1
    RETURNING o.id, o.process, o.instance_id, o.command_type, o.payload, o.created_at, o.attempts, f.error
)
INSERT INTO pm.dead_letters (id, process, instance_id, command_type, payload, created_at, attempts, error)
SELECT id, process, instance_id, command_type, payload, created_at, attempts + 1, error
FROM moved
ON CONFLICT (id) DO NOTHING
