-- Timeouts due by $2 of active instances, earliest first. Parked instances
-- keep theirs until released; completed ones have none.
SELECT t.instance_id, t.kind, t.due_at
FROM pm.timeouts t
JOIN pm.instances i ON i.process = t.process AND i.instance_id = t.instance_id
WHERE t.process = $1 AND t.due_at <= $2 AND i.status = 'active'
ORDER BY t.due_at
LIMIT $3
