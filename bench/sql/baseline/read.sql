-- The next events after the checkpoint ($1, $2), at most $3, from
-- transactions that have all finished (below the snapshot's xmin), in
-- (transaction, position) order: nothing can appear behind the checkpoint.
SELECT transaction_id::text::bigint AS tx, position, stream_id, event_type, payload
FROM pm.events
WHERE (transaction_id, position) > ($1::text::xid8, $2)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY transaction_id, position
LIMIT $3
