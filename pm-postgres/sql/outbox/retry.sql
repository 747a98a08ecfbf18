-- Releases a command after a failed attempt, available again at $3.
UPDATE pm.outbox
SET lease_id = NULL, leased_until = NULL, available_at = $3, attempts = attempts + 1, last_error = $4
WHERE id = $2 AND lease_id = $1
