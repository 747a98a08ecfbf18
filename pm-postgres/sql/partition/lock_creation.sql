-- Serialises the creation of one process's partitions between workers
-- starting at once (held until the transaction ends).
SELECT pg_advisory_xact_lock(hashtextextended('pm.partitions/' || $1, 0))
