-- Every event of one stream, in stream order.
SELECT transaction_id::text::bigint AS transaction_id, position, stream_id, stream_version,
       event_type, payload, recorded_at
FROM pm.events
WHERE stream_id = $1
ORDER BY stream_version
