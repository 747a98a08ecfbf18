-- What holds readers back: the snapshot xmin, the newest event, and the
-- oldest transaction still open on the server (xmin is cluster-wide).
SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
       (SELECT max(transaction_id)::text::bigint FROM pm.events) AS newest_transaction,
       (SELECT pid FROM pg_stat_activity
         WHERE backend_xid IS NOT NULL OR backend_xmin IS NOT NULL
         ORDER BY least(age(backend_xid), age(backend_xmin)) DESC NULLS LAST
         LIMIT 1) AS oldest_pid,
       (SELECT extract(epoch FROM now() - xact_start)::double precision FROM pg_stat_activity
         WHERE backend_xid IS NOT NULL
         ORDER BY xact_start
         LIMIT 1) AS oldest_transaction_seconds
