-- Releases commands after failed attempts, each available again at its own
-- time; fenced on the lease.
UPDATE pm.outbox o
SET lease_id = NULL,
    leased_until = NULL,
    available_at = f.retry_at,
    attempts = o.attempts + 1,
    last_error = f.error
FROM unnest($2::uuid[], $3::timestamptz[], $4::text[]) AS f (id, retry_at, error)
WHERE o.id = f.id AND o.lease_id = $1
