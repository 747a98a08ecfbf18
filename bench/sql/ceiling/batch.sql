-- The write ceiling: one batch's instance and outbox rows as plain INSERTs
-- into the engine's own tables, with their indexes, in one statement; no
-- reads, no checks, every row new.
WITH instances AS (
    INSERT INTO pm.instances (process, instance_id, state, version, status, schema_version)
    SELECT 'ceiling', i.id, i.state, 1, 'active', 1
    FROM unnest($1::text[], $2::jsonb[]) AS i (id, state)
)
INSERT INTO pm.outbox (id, process, instance_id, ordering_key, command_type, payload, created_at)
SELECT c.id, 'ceiling', c.instance_id, 'instance:' || c.instance_id, c.command_type, c.payload, now()
FROM unnest($3::uuid[], $4::text[], $5::text[], $6::jsonb[]) AS c (id, instance_id, command_type, payload)
