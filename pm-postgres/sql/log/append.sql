-- Appends events to one stream if it is at the expected version ($2; NULL
-- means any), in one statement, and wakes readers when the transaction
-- commits. Returns the version found and the new version (NULL when the
-- expectation failed). Two appenders racing for the same version collide on
-- UNIQUE (stream_id, stream_version): the second gets a unique violation.
WITH current_version AS (
    SELECT coalesce(max(stream_version), 0) AS version
    FROM pm.events
    WHERE stream_id = $1
),
inserted AS (
    INSERT INTO pm.events (stream_id, stream_version, event_type, payload)
    SELECT $1, c.version + e.ordinality, e.event_type, e.payload
    FROM current_version c,
         unnest($3::text[], $4::jsonb[]) WITH ORDINALITY AS e (event_type, payload, ordinality)
    WHERE $2::bigint IS NULL OR c.version = $2::bigint
    ORDER BY e.ordinality
    RETURNING stream_version
),
notified AS (
    SELECT pg_notify('pm_events', '') AS done
    WHERE EXISTS (SELECT 1 FROM inserted)
)
SELECT (SELECT version FROM current_version) AS current_version,
       (SELECT max(stream_version) FROM inserted) AS new_version,
       (SELECT count(*) FROM notified) AS notified
