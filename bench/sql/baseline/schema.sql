-- The hand-written baseline's own tables: what a careful team would create
-- for this one saga, with the guarantees the engine gives (state, outbox and
-- checkpoint in one transaction, a version per booking, deterministic
-- command ids, commands ordered per booking) and nothing else.
CREATE SCHEMA IF NOT EXISTS hw;
CREATE TABLE IF NOT EXISTS hw.bookings (
    id      text PRIMARY KEY,
    state   jsonb   NOT NULL,
    version bigint  NOT NULL,
    done    boolean NOT NULL
);
CREATE TABLE IF NOT EXISTS hw.outbox (
    id           uuid PRIMARY KEY,
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    booking      text        NOT NULL,
    command_type text        NOT NULL,
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL
);
-- A dispatcher sends each booking's commands in order: oldest first.
CREATE INDEX IF NOT EXISTS outbox_by_booking ON hw.outbox (booking, seq);
CREATE TABLE IF NOT EXISTS hw.timeouts (
    booking text PRIMARY KEY,
    due_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS timeouts_by_due ON hw.timeouts (due_at);
CREATE TABLE IF NOT EXISTS hw.checkpoint (
    name        text PRIMARY KEY,
    tx          bigint NOT NULL,
    position    bigint NOT NULL
);
-- Fails the statement it is part of (and so its implicit transaction).
CREATE OR REPLACE FUNCTION hw.require(ok boolean, what text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ok THEN
        RAISE EXCEPTION '%', what;
    END IF;
    RETURN true;
END;
$$;
