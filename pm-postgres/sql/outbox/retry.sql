-- Makes failed heads available again, each at its own time, and counts the
-- attempt; fenced on the lease. The head stays, so the commands behind it
-- wait (G3).
WITH failed AS (
    SELECT * FROM unnest($2::uuid[], $3::timestamptz[], $4::text[]) AS f (id, retry_at, error)
),
released AS (
    UPDATE pm.outbox_heads h
    SET available_at = f.retry_at, lease_id = NULL
    FROM pm.outbox o, failed f
    WHERE o.id = f.id
      AND h.process = o.process AND h.ordering_key = o.ordering_key AND h.command_id = o.id
      AND h.lease_id = $1
    RETURNING h.command_id
)
UPDATE pm.outbox o
SET attempts = o.attempts + 1, last_error = f.error
FROM failed f, released r
WHERE o.id = f.id AND r.command_id = f.id
