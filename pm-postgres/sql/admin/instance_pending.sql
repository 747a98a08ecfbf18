-- The pending commands of one instance in the order issued, with their
-- ordering key, attempts and last error; a command first in line for its
-- key carries its head's lease and when it can next be claimed (engine
-- clock). The others wait for the commands before them of their key.
SELECT o.id, o.ordering_key, o.command_type, o.payload, o.attempts, o.last_error, o.created_at,
       h.command_id IS NOT NULL AS head,
       coalesce(h.lease_id IS NOT NULL AND h.available_at > now(), false) AS leased,
       h.available_at
FROM pm.outbox o
LEFT JOIN pm.outbox_heads h
       ON h.process = o.process AND h.ordering_key = o.ordering_key AND h.command_id = o.id
WHERE o.process = $1 AND o.instance_id = $2
ORDER BY o.seq
