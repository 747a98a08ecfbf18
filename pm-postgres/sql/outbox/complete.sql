-- Removes delivered commands; fenced on the lease, so a dispatcher whose
-- lease ran out (and whose commands were claimed again) changes nothing.
DELETE FROM pm.outbox
WHERE id = ANY ($2::uuid[]) AND lease_id = $1
