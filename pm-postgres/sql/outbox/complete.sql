-- Moves delivered commands from the outbox to the ledger; fenced on the
-- lease, so a dispatcher whose lease ran out (and whose commands were
-- claimed again) changes nothing.
WITH done AS (
    DELETE FROM pm.outbox
    WHERE id = ANY ($2::uuid[]) AND lease_id = $1
    RETURNING id, process, instance_id, command_type, created_at, attempts
)
INSERT INTO pm.delivered (id, process, instance_id, command_type, created_at, attempts)
SELECT id, process, instance_id, command_type, created_at, attempts + 1
FROM done
ON CONFLICT (id) DO NOTHING
