-- Keeps aside events (and timeouts) that parked an instance or were held
-- behind one, in order.
INSERT INTO pm.parked (process, instance_id, error, event_tx, event_position, stream_id,
                       stream_version, event_type, payload, recorded_at, timeout_kind, due_at)
SELECT $1, p.instance_id, p.error, p.event_tx, p.event_position, p.stream_id, p.stream_version,
       p.event_type, p.payload, p.recorded_at, p.timeout_kind, p.due_at
FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[],
            $8::text[], $9::jsonb[], $10::timestamptz[], $11::text[], $12::timestamptz[])
     WITH ORDINALITY AS p (instance_id, error, event_tx, event_position, stream_id, stream_version,
                           event_type, payload, recorded_at, timeout_kind, due_at, ordinality)
ORDER BY p.ordinality
