-- Moves a checkpoint (only forward).
INSERT INTO pm.checkpoints AS c (process, source, transaction_id, position, updated_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (process, source) DO UPDATE
SET transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()
WHERE (c.transaction_id, c.position) < (excluded.transaction_id, excluded.position)
