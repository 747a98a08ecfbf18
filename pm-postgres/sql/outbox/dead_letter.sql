-- Moves commands (heads locked by lock_heads.sql, so fenced on their lease)
-- to the dead letters with their errors.
WITH failed AS (
    SELECT * FROM unnest($1::uuid[], $2::text[]) AS f (id, error)
),
moved AS (
    DELETE FROM pm.outbox o
    USING failed f
    WHERE o.id = f.id
    RETURNING o.id, o.process, o.instance_id, o.ordering_key, o.command_type, o.payload,
              o.created_at, o.attempts, f.error
)
INSERT INTO pm.dead_letters (id, process, instance_id, ordering_key, command_type, payload,
                             created_at, attempts, error)
SELECT id, process, instance_id, ordering_key, command_type, payload, created_at, attempts + 1, error
FROM moved
ON CONFLICT (id) DO NOTHING
