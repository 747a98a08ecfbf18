-- Claims ready commands for one delivery round under lease $2 for $3
-- milliseconds. Only the oldest command of each instance is claimable
-- (G3): no older row of the same instance may exist, leased or not. Rows
-- another dispatcher holds are skipped, not waited for; an expired lease
-- needs no sweeper, its rows are simply claimable again. `= ANY (ARRAY(..))`
-- makes the update primary-key probes for the claimed ids; `IN (..)` was
-- planned as a semi-join over the whole outbox.
UPDATE pm.outbox o
SET lease_id = $2,
    leased_until = now() + make_interval(secs => $3::double precision / 1000)
WHERE o.id = ANY (ARRAY(
    SELECT h.id
    FROM pm.outbox h
    WHERE h.process = $1
      AND h.available_at <= $4
      AND (h.lease_id IS NULL OR h.leased_until < now())
      AND NOT EXISTS (
          SELECT 1 FROM pm.outbox older
          WHERE older.process = h.process
            AND older.instance_id = h.instance_id
            AND older.seq < h.seq
      )
    ORDER BY h.seq
    LIMIT $5
    FOR UPDATE SKIP LOCKED
))
RETURNING o.id, o.instance_id, o.command_type, o.payload, o.attempts, o.created_at, o.seq
