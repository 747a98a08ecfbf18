-- Moves dead letters of a process ($2: these ids; NULL: all) back into the
-- outbox, due now with their attempts reset. Each goes behind the pending
-- commands of its instance.
WITH moved AS (
    DELETE FROM pm.dead_letters
    WHERE process = $1 AND ($2::uuid[] IS NULL OR id = ANY ($2::uuid[]))
    RETURNING id, process, instance_id, command_type, payload, created_at
)
INSERT INTO pm.outbox (id, process, instance_id, command_type, payload, created_at, available_at)
SELECT id, process, instance_id, command_type, payload, created_at, now()
FROM moved
ORDER BY created_at, id
ON CONFLICT (id) DO NOTHING
