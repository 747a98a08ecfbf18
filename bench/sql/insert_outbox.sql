-- Records commands in issue order. The id is deterministic, so a command
-- recorded twice is stored once, and one already delivered is not recorded
-- again.
INSERT INTO pm.outbox (id, process, instance_id, command_type, payload, created_at, available_at)
SELECT c.id, $1, c.instance_id, c.command_type, c.payload, c.created_at, c.created_at
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[])
     WITH ORDINALITY AS c (id, instance_id, command_type, payload, created_at, ordinality)
WHERE NOT EXISTS (SELECT 1 FROM pm.delivered d WHERE d.id = c.id)
ORDER BY c.ordinality
ON CONFLICT (id) DO NOTHING
