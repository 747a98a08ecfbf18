-- One batch in one statement (one implicit transaction): the checkpoint
-- moves from ($4, $5) to ($2, $3) only from where the batch read; each
-- booking is written only at the version it was loaded with; the batch's
-- commands are recorded (once: ids are deterministic); timeouts are
-- scheduled or dropped; dispatchers are woken. A failed check fails all.
WITH moved AS (
    UPDATE hw.checkpoint SET tx = $2, position = $3
    WHERE name = $1 AND tx = $4 AND position = $5
    RETURNING 1
),
written AS (
    INSERT INTO hw.bookings AS b (id, state, version, done)
    SELECT * FROM unnest($6::text[], $7::jsonb[], $8::bigint[], $9::boolean[])
    ON CONFLICT (id) DO UPDATE
    SET state = excluded.state, version = excluded.version, done = excluded.done
    WHERE b.version = excluded.version - 1
    RETURNING 1
),
recorded AS (
    INSERT INTO hw.outbox (id, booking, command_type, payload, created_at)
    SELECT * FROM unnest($10::uuid[], $11::text[], $12::text[], $13::jsonb[], $14::timestamptz[])
    ON CONFLICT (id) DO NOTHING
    RETURNING 1
),
scheduled AS (
    INSERT INTO hw.timeouts (booking, due_at)
    SELECT * FROM unnest($15::text[], $16::timestamptz[])
    ON CONFLICT (booking) DO UPDATE SET due_at = excluded.due_at
    RETURNING 1
),
dropped AS (
    DELETE FROM hw.timeouts WHERE booking = ANY ($17::text[])
    RETURNING 1
)
SELECT hw.require((SELECT count(*) FROM moved) = 1, 'the checkpoint moved')
   AND hw.require((SELECT count(*) FROM written) = cardinality($6::text[]), 'a booking changed')
   AND ((SELECT count(*) FROM recorded) = 0 OR pg_notify('hw_outbox', '')::text = '')
   AND (SELECT count(*) FROM scheduled) >= 0
   AND (SELECT count(*) FROM dropped) >= 0
