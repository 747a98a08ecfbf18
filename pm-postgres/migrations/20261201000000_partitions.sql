-- Several workers per process (G7). A process's instances are spread over a
-- fixed number of partitions by `pm.partition_of`; a worker owns a partition
-- while its lease lasts, and `epoch` (+1 on every claim) fences every batch
-- commit: the commit's first statement moves the partition's checkpoint only
-- where owner, epoch and the checkpoint the batch read from still match.
CREATE TABLE IF NOT EXISTS pm.partitions (
    process             text        NOT NULL,
    partition           integer     NOT NULL,
    source              text        NOT NULL,
    owner               text,
    epoch               bigint      NOT NULL DEFAULT 0,
    lease_until         timestamptz NOT NULL DEFAULT now(),
    checkpoint_tx       bigint      NOT NULL DEFAULT 0,
    checkpoint_position bigint      NOT NULL DEFAULT 0,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (process, partition)
);

-- Workers of each process, with their heartbeat, for fair shares and for
-- operators.
CREATE TABLE IF NOT EXISTS pm.workers (
    process      text        NOT NULL,
    worker_id    text        NOT NULL,
    name         text        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    lease_until  timestamptz NOT NULL,
    PRIMARY KEY (process, worker_id)
);

-- The partition of an instance id among `partitions`: the first four bytes
-- of md5(id) as an unsigned big-endian number, modulo the count. The same
-- rule as `pm_core::partition_of` (a stored format: both are pinned by
-- tests).
CREATE OR REPLACE FUNCTION pm.partition_of(instance_id text, partitions integer)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT mod(('x' || substr(md5(instance_id), 1, 8))::bit(32)::bigint, partitions)::integer $$;

-- The last event applied to each instance: a batch read again (after a
-- commit whose reply was lost) skips what an instance has seen.
ALTER TABLE pm.instances
    ADD COLUMN IF NOT EXISTS last_tx bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS last_position bigint NOT NULL DEFAULT 0;
