-- The application's own events table: the batch and file services write it,
-- the batch process reads it through pm_postgres::EventTable. Every stream
-- holds one event, so a service that records the same event twice (a
-- redelivered command) is recognised by the unique stream id.
CREATE SCHEMA IF NOT EXISTS batch_import;

CREATE TABLE IF NOT EXISTS batch_import.events (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What EventTable needs: the appending transaction, and an index to
    -- read in (transaction, position) order.
    transaction_id xid8        NOT NULL DEFAULT pg_current_xact_id(),
    stream_id      text        NOT NULL UNIQUE,
    kind           text        NOT NULL,
    body           jsonb       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS events_by_transaction ON batch_import.events (transaction_id, id);

-- Wakes the engine at once; without it the engine finds rows by polling.
CREATE OR REPLACE FUNCTION batch_import.notify_events() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('batch_import_events', ''); RETURN NULL; END $$;
CREATE OR REPLACE TRIGGER events_notify AFTER INSERT ON batch_import.events
    FOR EACH STATEMENT EXECUTE FUNCTION batch_import.notify_events();
