-- Removes up to $2 rows of process $1's ledger of delivered commands
-- delivered more than $3 milliseconds ago (database clock), oldest first.
DELETE FROM pm.delivered l
WHERE l.ctid = ANY (ARRAY(
    SELECT d.ctid
    FROM pm.delivered d
    WHERE d.process = $1
      AND d.delivered_at < now() - make_interval(secs => $3::double precision / 1000)
    ORDER BY d.delivered_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
))
