-- After their commands left the outbox, points each of the locked heads
-- ($1 processes, $2 keys) at the next pending command of its key (an index
-- probe), available at once, or removes the head when none is left. It runs
-- as its own statement after the heads were locked, so it sees every
-- command recorded by a transaction that held them before.
WITH next AS (
    SELECT h.process, h.ordering_key, n.id, n.created_at
    FROM unnest($1::text[], $2::text[]) AS h (process, ordering_key)
    LEFT JOIN LATERAL (
        SELECT o.id, o.created_at
        FROM pm.outbox o
        WHERE o.process = h.process AND o.ordering_key = h.ordering_key
        ORDER BY o.seq
        LIMIT 1
    ) AS n ON true
),
promoted AS (
    UPDATE pm.outbox_heads t
    SET command_id = next.id, available_at = next.created_at, lease_id = NULL
    FROM next
    WHERE next.id IS NOT NULL AND t.process = next.process AND t.ordering_key = next.ordering_key
    RETURNING t.ordering_key
)
DELETE FROM pm.outbox_heads t
USING next
WHERE next.id IS NULL AND t.process = next.process AND t.ordering_key = next.ordering_key
