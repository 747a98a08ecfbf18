-- What holds readers back: the snapshot xmin, the newest event, the oldest
-- transaction still open on the server with a transaction id, and the
-- oldest prepared transaction (PREPARE TRANSACTION): it has no session in
-- pg_stat_activity, yet holds xmin back until someone commits or rolls it
-- back. xmin is cluster-wide, so either may be in another database.
WITH oldest AS (
    SELECT pid, extract(epoch FROM now() - xact_start)::double precision AS seconds
    FROM pg_stat_activity
    WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
    ORDER BY xact_start
    LIMIT 1
),
prepared AS (
    SELECT gid, database::text AS database,
           extract(epoch FROM now() - prepared)::double precision AS seconds
    FROM pg_prepared_xacts
    ORDER BY prepared
    LIMIT 1
)
SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
       (SELECT max(transaction_id)::text::bigint FROM pm.events) AS newest_transaction,
       (SELECT pid FROM oldest) AS oldest_pid,
       (SELECT seconds FROM oldest) AS oldest_transaction_seconds,
       (SELECT gid FROM prepared) AS prepared_gid,
       (SELECT database FROM prepared) AS prepared_database,
       (SELECT seconds FROM prepared) AS prepared_seconds
