-- The dead letters of one process, oldest first.
SELECT id, instance_id, ordering_key, command_type, payload, attempts, created_at, error
FROM pm.dead_letters
WHERE process = $1
ORDER BY dead_at, id
