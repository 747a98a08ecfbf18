-- Reads the next events after a checkpoint without ever skipping one (G6).
--
-- Positions come from an identity column, so a transaction that took its
-- positions early can commit after a reader has passed them. Ordering by
-- (transaction_id, position) and reading only transactions below the
-- snapshot's xmin (every transaction below it has finished, committed or
-- not) means nothing can still appear behind a checkpoint. One snapshot
-- serves both the batch and the visible end, so the checkpoint can move past
-- events of other families too. A transaction held open anywhere on the
-- server holds xmin back: that shows as lag, never as loss, and `held_back`
-- tells the reader to look again soon rather than wait for a NOTIFY that
-- has already been sent. (It compares the newest transaction, one index
-- probe, with xmin: an EXISTS over the events at or above xmin would scan
-- the whole log when none is.)
--
-- $1, $2: the checkpoint (transaction, position); $3: LIKE patterns of the
-- families to read (empty: all); $4: the batch size.
WITH horizon AS MATERIALIZED (
    SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin
),
visible_end AS (
    SELECT e.transaction_id, e.position
    FROM pm.events e, horizon h
    WHERE e.transaction_id < h.xmin
    ORDER BY e.transaction_id DESC, e.position DESC
    LIMIT 1
),
batch AS (
    SELECT e.*
    FROM pm.events e, horizon h
    WHERE (e.transaction_id, e.position) > ($1::bigint::text::xid8, $2::bigint)
      AND e.transaction_id < h.xmin
      AND (cardinality($3::text[]) = 0 OR e.event_type LIKE ANY ($3::text[]))
    ORDER BY e.transaction_id, e.position
    LIMIT $4
)
SELECT v.transaction_id::text::bigint AS end_transaction,
       v.position AS end_position,
       coalesce((SELECT max(e.transaction_id) FROM pm.events e) >= h.xmin, false) AS held_back,
       b.transaction_id::text::bigint AS transaction_id,
       b.position,
       b.stream_id,
       b.stream_version,
       b.event_type,
       b.payload,
       b.recorded_at
FROM horizon h
LEFT JOIN visible_end v ON true
LEFT JOIN batch b ON true
ORDER BY b.transaction_id, b.position
