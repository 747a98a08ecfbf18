-- The pending timeouts of one instance, soonest first.
SELECT kind, due_at
FROM pm.timeouts
WHERE process = $1 AND instance_id = $2
ORDER BY due_at, kind
