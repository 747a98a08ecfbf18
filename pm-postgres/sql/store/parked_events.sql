-- Everything parked for one process, oldest first.
SELECT id, released, instance_id, error, event_tx, event_position, stream_id, stream_version,
       event_type, payload, recorded_at, timeout_kind, due_at
FROM pm.parked
WHERE process = $1
ORDER BY id
