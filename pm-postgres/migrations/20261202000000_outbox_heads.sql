-- Ordering keys and explicit heads (G3). Commands with the same ordering key
-- are delivered one at a time in the order issued; `pm.outbox_heads` holds
-- one row per (process, ordering key) with commands pending, naming its
-- oldest command and when that command can next be claimed (its retry time,
-- or its lease's end while leased). Claims read heads by availability
-- through an index, so their cost follows what they claim, whatever the
-- size of the outbox, the plan mode or the statistics.
ALTER TABLE pm.outbox ADD COLUMN IF NOT EXISTS ordering_key text;
UPDATE pm.outbox SET ordering_key = 'instance:' || instance_id WHERE ordering_key IS NULL;
ALTER TABLE pm.outbox ALTER COLUMN ordering_key SET NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_by_key ON pm.outbox (process, ordering_key, seq);

CREATE TABLE IF NOT EXISTS pm.outbox_heads (
    process      text        NOT NULL,
    ordering_key text        NOT NULL,
    command_id   uuid        NOT NULL,
    available_at timestamptz NOT NULL,
    lease_id     uuid,
    PRIMARY KEY (process, ordering_key)
);
CREATE INDEX IF NOT EXISTS outbox_heads_by_availability ON pm.outbox_heads (process, available_at);

INSERT INTO pm.outbox_heads (process, ordering_key, command_id, available_at, lease_id)
SELECT DISTINCT ON (process, ordering_key)
       process, ordering_key, id,
       greatest(available_at, coalesce(leased_until, available_at)), lease_id
FROM pm.outbox
ORDER BY process, ordering_key, seq
ON CONFLICT (process, ordering_key) DO NOTHING;

-- Availability and leases live on the heads now.
DROP INDEX IF EXISTS pm.outbox_by_instance;
DROP INDEX IF EXISTS pm.outbox_by_seq;
ALTER TABLE pm.outbox
    DROP COLUMN IF EXISTS available_at,
    DROP COLUMN IF EXISTS lease_id,
    DROP COLUMN IF EXISTS leased_until;

-- A dead letter keeps its ordering key, so a retried one goes back behind
-- the pending commands of its key.
ALTER TABLE pm.dead_letters ADD COLUMN IF NOT EXISTS ordering_key text;
UPDATE pm.dead_letters SET ordering_key = 'instance:' || instance_id WHERE ordering_key IS NULL;
ALTER TABLE pm.dead_letters ALTER COLUMN ordering_key SET NOT NULL;
