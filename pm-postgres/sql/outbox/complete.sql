-- Moves delivered commands (heads locked by lock_heads.sql, so fenced on
-- their lease) from the outbox to the ledger of delivered commands.
WITH done AS (
    DELETE FROM pm.outbox
    WHERE id = ANY ($1::uuid[])
    RETURNING id, process, instance_id, command_type, created_at, attempts
)
INSERT INTO pm.delivered (id, process, instance_id, command_type, created_at, attempts)
SELECT id, process, instance_id, command_type, created_at, attempts + 1
FROM done
ON CONFLICT (id) DO NOTHING
