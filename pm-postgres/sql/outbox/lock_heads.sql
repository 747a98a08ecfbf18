-- Locks the heads that lease $1 holds among commands $2, in key order (the
-- order recorders lock them in), and returns them: the commands whose
-- delivery is being settled, with their keys.
SELECT h.process, h.ordering_key, h.command_id
FROM pm.outbox o
JOIN pm.outbox_heads h
  ON h.process = o.process AND h.ordering_key = o.ordering_key AND h.command_id = o.id
WHERE o.id = ANY ($2::uuid[]) AND h.lease_id = $1
ORDER BY h.process, h.ordering_key
FOR UPDATE OF h
