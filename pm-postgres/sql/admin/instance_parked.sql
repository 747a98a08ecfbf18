-- The items parked for one instance (events, and timeouts whose handler
-- failed), in order.
SELECT id, released, instance_id, error, event_tx, event_position, stream_id, stream_version,
       event_type, payload, recorded_at, timeout_kind, due_at
FROM pm.parked
WHERE process = $1 AND instance_id = $2
ORDER BY id
