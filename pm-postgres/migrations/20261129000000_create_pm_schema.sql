-- The pm schema: an optional built-in event log, and the durable state of
-- process managers (checkpoints, instances, outbox, timeouts, parked events,
-- dead letters, and a registry of processes for tooling).
CREATE SCHEMA IF NOT EXISTS pm;

-- The event log. Readers order by (transaction_id, position) and read only
-- below the snapshot's xmin, so an event committed late by a long
-- transaction is never behind a reader's checkpoint (G6).
CREATE TABLE IF NOT EXISTS pm.events (
    position       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id xid8        NOT NULL DEFAULT pg_current_xact_id(),
    stream_id      text        NOT NULL,
    stream_version bigint      NOT NULL,
    event_type     text        NOT NULL,
    payload        jsonb       NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX IF NOT EXISTS events_by_transaction ON pm.events (transaction_id, position);

-- How far each process has read each source.
CREATE TABLE IF NOT EXISTS pm.checkpoints (
    process        text        NOT NULL,
    source         text        NOT NULL,
    transaction_id bigint      NOT NULL,
    position       bigint      NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (process, source)
);

-- One row per process instance; completed rows are tombstones.
CREATE TABLE IF NOT EXISTS pm.instances (
    process        text        NOT NULL,
    instance_id    text        NOT NULL,
    state          jsonb       NOT NULL,
    version        bigint      NOT NULL,
    status         text        NOT NULL CHECK (status IN ('active', 'completed', 'parked')),
    schema_version integer     NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (process, instance_id)
);

-- Commands waiting for delivery. `seq` orders the commands of an instance;
-- only the oldest of each instance can be claimed (G3).
CREATE TABLE IF NOT EXISTS pm.outbox (
    id           uuid PRIMARY KEY,
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    process      text        NOT NULL,
    instance_id  text        NOT NULL,
    command_type text        NOT NULL,
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL,
    available_at timestamptz NOT NULL,
    attempts     integer     NOT NULL DEFAULT 0,
    lease_id     uuid,
    leased_until timestamptz,
    last_error   text
);
CREATE INDEX IF NOT EXISTS outbox_by_instance ON pm.outbox (process, instance_id, seq);
CREATE INDEX IF NOT EXISTS outbox_by_seq ON pm.outbox (process, seq);

-- Commands that will not be delivered without an operator.
CREATE TABLE IF NOT EXISTS pm.dead_letters (
    id           uuid PRIMARY KEY,
    process      text        NOT NULL,
    instance_id  text        NOT NULL,
    command_type text        NOT NULL,
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL,
    attempts     integer     NOT NULL,
    error        text        NOT NULL,
    dead_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS dead_letters_by_process ON pm.dead_letters (process, dead_at);

-- At most one pending timeout per (instance, kind).
CREATE TABLE IF NOT EXISTS pm.timeouts (
    process     text        NOT NULL,
    instance_id text        NOT NULL,
    kind        text        NOT NULL,
    due_at      timestamptz NOT NULL,
    PRIMARY KEY (process, instance_id, kind)
);
CREATE INDEX IF NOT EXISTS timeouts_by_due ON pm.timeouts (process, due_at);

-- Events (and timeouts) that parked an instance or were held behind one.
CREATE TABLE IF NOT EXISTS pm.parked (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    process         text        NOT NULL,
    instance_id     text,
    error           text,
    event_tx        bigint,
    event_position  bigint,
    stream_id       text,
    stream_version  bigint,
    event_type      text,
    payload         jsonb,
    recorded_at     timestamptz,
    timeout_kind    text,
    due_at          timestamptz,
    parked_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS parked_by_process ON pm.parked (process, id);

-- The processes that have run against this database, with their descriptor.
CREATE TABLE IF NOT EXISTS pm.processes (
    name       text PRIMARY KEY,
    descriptor jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
