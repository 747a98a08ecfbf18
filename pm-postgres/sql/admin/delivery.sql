-- How the delivery of one process's commands gets on: how many commands
-- were delivered in the last minute (database clock), how old the oldest
-- pending command is, and the head that has waited longest (the oldest
-- command first in line for its ordering key), with its attempts, last
-- error, and whether it is leased or when it can next be claimed.
-- `created_at` and `available_at` are the engine's clock.
WITH longest AS (
    SELECT h.ordering_key, h.available_at, h.lease_id,
           o.id, o.instance_id, o.command_type, o.attempts, o.last_error, o.created_at
    FROM pm.outbox_heads h
    JOIN pm.outbox o ON o.id = h.command_id
    WHERE h.process = $1
    ORDER BY o.created_at, o.seq
    LIMIT 1
)
SELECT (SELECT count(*) FROM pm.delivered
        WHERE process = $1 AND delivered_at > now() - interval '1 minute') AS delivered_last_minute,
       (SELECT extract(epoch FROM now() - min(created_at))::double precision
        FROM pm.outbox WHERE process = $1) AS oldest_pending_seconds,
       l.id AS head_command_id,
       l.ordering_key AS head_ordering_key,
       l.instance_id AS head_instance,
       l.command_type AS head_command_type,
       l.attempts AS head_attempts,
       l.last_error AS head_last_error,
       (l.lease_id IS NOT NULL AND l.available_at > now()) AS head_leased,
       extract(epoch FROM l.available_at - now())::double precision AS head_available_in_seconds,
       extract(epoch FROM now() - l.created_at)::double precision AS head_waiting_seconds
FROM (VALUES (1)) AS one (n)
LEFT JOIN longest l ON true
