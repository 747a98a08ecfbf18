-- The dead letters of one instance, oldest first.
SELECT id, instance_id, ordering_key, command_type, payload, attempts, created_at, error
FROM pm.dead_letters
WHERE process = $1 AND instance_id = $2
ORDER BY dead_at, id
