-- When the next claimable command of a process (the oldest of its
-- instance) becomes available or its lease runs out.
SELECT min(greatest(h.available_at, coalesce(h.leased_until, h.available_at)))
FROM pm.outbox h
WHERE h.process = $1
  AND NOT EXISTS (
      SELECT 1 FROM pm.outbox older
      WHERE older.process = h.process
        AND older.instance_id = h.instance_id
        AND older.seq < h.seq
  )
