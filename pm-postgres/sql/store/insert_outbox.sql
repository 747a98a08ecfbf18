-- Records commands in issue order. The id is deterministic, so a command
-- recorded twice is stored once, and one already delivered is not recorded
-- again.
INSERT INTO pm.outbox (id, process, instance_id, ordering_key, command_type, payload, created_at)
SELECT c.id, $1, c.instance_id, c.ordering_key, c.command_type, c.payload, c.created_at
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::timestamptz[])
     WITH ORDINALITY AS c (id, instance_id, ordering_key, command_type, payload, created_at, ordinality)
WHERE NOT EXISTS (SELECT 1 FROM pm.delivered d WHERE d.id = c.id)
ORDER BY c.ordinality
ON CONFLICT (id) DO NOTHING
