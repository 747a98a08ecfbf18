-- When the next head of a process becomes claimable (its retry time or its
-- lease's end): the first entry of an index.
SELECT min(available_at) FROM pm.outbox_heads WHERE process = $1
