-- Reads the next events of an application's own events table after a
-- checkpoint, without ever skipping one: the rule of the built-in log
-- (log/read.sql, G6). A transaction that took its positions early can commit
-- after a reader has passed them, so rows are ordered by (transaction id,
-- position) and read only for transactions below the snapshot's xmin, all of
-- which have finished: nothing can still appear behind a checkpoint. One
-- snapshot serves the batch and the visible end, so the checkpoint moves
-- past rows of other types too; `held_back` says newer rows exist that an
-- open transaction still hides.
--
-- The table needs a column `transaction_id xid8 NOT NULL DEFAULT
-- pg_current_xact_id()` and an index on (transaction_id, position).
--
-- {table} and the {column} names are quoted identifiers filled in once,
-- when the source is built (see src/table/sql.rs); {stream_version} and
-- {recorded_at} are a quoted column or a constant.
--
-- $1, $2: the checkpoint (transaction, position); $3: whether to read every
-- type; $4: stored type names to read; $5: LIKE patterns of stored type
-- names to read (families stored under their own names); $6: batch size.
WITH horizon AS MATERIALIZED (
    SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin
),
visible_end AS (
    SELECT e.{transaction_id} AS transaction_id, e.{position} AS position
    FROM {table} e, horizon h
    WHERE e.{transaction_id} < h.xmin
    ORDER BY e.{transaction_id} DESC, e.{position} DESC
    LIMIT 1
),
batch AS (
    SELECT e.{transaction_id} AS transaction_id,
           e.{position} AS position,
           e.{stream_id}::text AS stream_id,
           {stream_version}::bigint AS stream_version,
           e.{event_type}::text AS event_type,
           e.{payload}::jsonb AS payload,
           {recorded_at}::timestamptz AS recorded_at
    FROM {table} e, horizon h
    WHERE (e.{transaction_id}, e.{position}) > ($1::bigint::text::xid8, $2::bigint)
      AND e.{transaction_id} < h.xmin
      AND ($3::boolean
           OR e.{event_type}::text = ANY ($4::text[])
           OR e.{event_type}::text LIKE ANY ($5::text[]))
    ORDER BY e.{transaction_id}, e.{position}
    LIMIT $6
)
SELECT v.transaction_id::text::bigint AS end_transaction,
       v.position::bigint AS end_position,
       coalesce((SELECT max(e.{transaction_id}) FROM {table} e) >= h.xmin, false) AS held_back,
       b.transaction_id::text::bigint AS transaction_id,
       b.position::bigint AS position,
       b.stream_id,
       b.stream_version,
       b.event_type,
       b.payload,
       b.recorded_at
FROM horizon h
LEFT JOIN visible_end v ON true
LEFT JOIN batch b ON true
ORDER BY b.transaction_id, b.position
