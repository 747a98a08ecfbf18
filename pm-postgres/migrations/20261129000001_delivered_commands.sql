-- Delivered commands leave the outbox for this ledger, so the outbox stays
-- small for claims while a replayed batch can still tell a command it
-- already delivered (and operators can see what went out).
CREATE TABLE IF NOT EXISTS pm.delivered (
    id           uuid PRIMARY KEY,
    process      text        NOT NULL,
    instance_id  text        NOT NULL,
    command_type text        NOT NULL,
    created_at   timestamptz NOT NULL,
    attempts     integer     NOT NULL,
    delivered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS delivered_by_process ON pm.delivered (process, delivered_at);
