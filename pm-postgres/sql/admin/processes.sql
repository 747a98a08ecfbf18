-- The registered processes with their checkpoint in the built-in log and
-- how many events of the log lie beyond it.
SELECT p.name,
       c.transaction_id AS checkpoint_transaction,
       c.position AS checkpoint_position,
       c.updated_at AS checkpoint_updated_at,
       (SELECT count(*) FROM pm.events e
         WHERE c.process IS NULL
            OR (e.transaction_id::text::bigint, e.position) > (c.transaction_id, c.position)) AS events_beyond_checkpoint
FROM pm.processes p
LEFT JOIN pm.checkpoints c ON c.process = p.name AND c.source = 'pm.events'
ORDER BY p.name
