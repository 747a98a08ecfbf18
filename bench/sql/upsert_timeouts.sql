-- Schedules (or moves) timeouts: one per (instance, kind).
INSERT INTO pm.timeouts (process, instance_id, kind, due_at)
SELECT $1, t.instance_id, t.kind, t.due_at
FROM unnest($2::text[], $3::text[], $4::timestamptz[]) AS t (instance_id, kind, due_at)
ON CONFLICT (process, instance_id, kind) DO UPDATE SET due_at = excluded.due_at
