-- Moves dead letters of a process ($2: these ids; NULL: all) back into the
-- outbox with their attempts reset, each behind the pending commands of its
-- ordering key; a key with none gets it as its head, due now.
WITH moved AS (
    DELETE FROM pm.dead_letters
    WHERE process = $1 AND ($2::uuid[] IS NULL OR id = ANY ($2::uuid[]))
    RETURNING id, process, instance_id, ordering_key, command_type, payload, created_at
),
recorded AS (
    INSERT INTO pm.outbox (id, process, instance_id, ordering_key, command_type, payload, created_at)
    SELECT id, process, instance_id, ordering_key, command_type, payload, created_at
    FROM moved
    ORDER BY created_at, id
    ON CONFLICT (id) DO NOTHING
    RETURNING id, ordering_key, seq
),
heads AS (
    INSERT INTO pm.outbox_heads (process, ordering_key, command_id, available_at)
    SELECT DISTINCT ON (ordering_key) $1, ordering_key, id, now()
    FROM recorded
    ORDER BY ordering_key, seq
    ON CONFLICT (process, ordering_key) DO UPDATE SET process = excluded.process
)
SELECT count(*) FROM recorded
