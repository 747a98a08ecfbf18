-- The last $3 commands delivered for one instance, oldest first, each with
-- how many were delivered in all.
SELECT id, command_type, created_at, attempts, delivered_at, total
FROM (
    SELECT id, command_type, created_at, attempts, delivered_at, count(*) OVER () AS total
    FROM pm.delivered
    WHERE process = $1 AND instance_id = $2
    ORDER BY delivered_at DESC, id DESC
    LIMIT $3
) AS latest
ORDER BY delivered_at, id
