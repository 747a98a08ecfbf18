-- Claims up to $5 heads of process $1 available at $4 for lease $2, for $3
-- milliseconds: only the oldest pending command of each ordering key is a
-- head (G3). The heads are read by availability through an index, so the
-- cost follows the claim, not the outbox. A claimed head is unavailable
-- until its lease runs out; an expired lease needs no sweeper. Heads another
-- dispatcher locks are skipped, not waited for; a batch recording commands
-- of a key only key-share locks its head, which a claim (setting the lease,
-- not the key) does not wait for. Times are the engine's.
WITH claimed AS (
    UPDATE pm.outbox_heads h
    SET lease_id = $2,
        available_at = $4 + make_interval(secs => $3::double precision / 1000)
    WHERE h.ctid = ANY (ARRAY(
        SELECT f.ctid
        FROM pm.outbox_heads f
        WHERE f.process = $1 AND f.available_at <= $4
        ORDER BY f.available_at
        LIMIT $5
        FOR NO KEY UPDATE SKIP LOCKED
    ))
    RETURNING h.command_id
)
SELECT o.id, o.instance_id, o.ordering_key, o.command_type, o.payload, o.attempts, o.created_at, o.seq
FROM claimed c
JOIN pm.outbox o ON o.id = c.command_id
