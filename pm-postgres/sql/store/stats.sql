-- Counts of one process's rows.
SELECT (SELECT count(*) FROM pm.instances WHERE process = $1 AND status = 'active') AS active,
       (SELECT count(*) FROM pm.instances WHERE process = $1 AND status = 'completed') AS completed,
       (SELECT count(*) FROM pm.instances WHERE process = $1 AND status = 'parked') AS parked,
       (SELECT count(*) FROM pm.outbox WHERE process = $1) AS pending_commands,
       (SELECT count(*) FROM pm.dead_letters WHERE process = $1) AS dead_letters,
       (SELECT count(*) FROM pm.timeouts WHERE process = $1) AS pending_timeouts
