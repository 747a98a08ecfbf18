-- Makes each new command the head of its ordering key ($3) if the key has
-- none: the first pending one of the batch per key. Where a head exists the
-- row is only locked (a no-op update): an acknowledgement that removes that
-- head waits for this transaction, and then sees these commands when it
-- looks for the next head; had it removed the head first, the row is gone
-- and this insert creates it. Commands not in the outbox (delivered before)
-- are left out.
INSERT INTO pm.outbox_heads (process, ordering_key, command_id, available_at)
SELECT DISTINCT ON (c.ordering_key) $1, c.ordering_key, c.id, c.created_at
FROM unnest($2::uuid[], $3::text[], $4::timestamptz[]) WITH ORDINALITY
     AS c (id, ordering_key, created_at, ordinality)
WHERE EXISTS (SELECT 1 FROM pm.outbox o WHERE o.id = c.id)
ORDER BY c.ordering_key, c.ordinality
ON CONFLICT (process, ordering_key) DO UPDATE SET process = excluded.process
