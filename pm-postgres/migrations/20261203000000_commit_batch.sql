-- One batch, one statement: `pm.commit_batch` writes everything a batch
-- changed (instances, outbox commands and their heads, timeouts, parked
-- items) behind the partitions' fence, in one round trip and one implicit
-- transaction. Its checks raise their own SQLSTATEs, which roll the whole
-- batch back:
--   PMF01  the fence does not hold (a partition moved, or its checkpoint did)
--   PMS01  an instance is not at the version the batch loaded (DETAIL: its id)
CREATE OR REPLACE FUNCTION pm.commit_batch(
    p_process         text,
    p_worker          text,
    -- The fence: per partition, the epoch claimed and the checkpoint moved
    -- from and to. Empty: no fence (a store used without partitions).
    f_partition       integer[],
    f_epoch           bigint[],
    f_from_tx         bigint[],
    f_from_position   bigint[],
    f_to_tx           bigint[],
    f_to_position     bigint[],
    -- Changed instances; expected version 0 means new.
    i_id              text[],
    i_state           jsonb[],
    i_expected        bigint[],
    i_status          text[],
    i_schema_version  integer[],
    i_last_tx         bigint[],
    i_last_position   bigint[],
    -- Commands in issue order.
    c_id              uuid[],
    c_instance        text[],
    c_key             text[],
    c_type            text[],
    c_payload         jsonb[],
    c_created         timestamptz[],
    -- Timeouts: a due time schedules (or moves), NULL drops.
    t_instance        text[],
    t_kind            text[],
    t_due             timestamptz[],
    -- Parked items applied again.
    r_replayed        bigint[],
    -- Items parked, in order: an event's columns or a timeout's.
    k_instance        text[],
    k_error           text[],
    k_event_tx        bigint[],
    k_event_position  bigint[],
    k_stream          text[],
    k_stream_version  bigint[],
    k_event_type      text[],
    k_payload         jsonb[],
    k_recorded        timestamptz[],
    k_timeout_kind    text[],
    k_due             timestamptz[]
) RETURNS void
LANGUAGE plpgsql
-- The tables grow from empty while the engine runs, usually with no
-- statistics yet, so the planner's estimates cannot be trusted: every
-- statement below is shaped so that each batch row is a probe by key
-- whatever the plan (ON CONFLICT arbiters, LATERAL ... LIMIT 1, TID lists),
-- and is planned for each call with the batch's own arrays, not once per
-- session while the tables were empty.
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    written bigint;
    stale   text;
BEGIN
    -- The fence first (G1, G7): its row locks hold until commit, so no claim
    -- takes these partitions meanwhile.
    IF cardinality(f_partition) > 0 THEN
        UPDATE pm.partitions p
        SET checkpoint_tx = f.to_tx, checkpoint_position = f.to_position, updated_at = now()
        FROM unnest(f_partition, f_epoch, f_from_tx, f_from_position, f_to_tx, f_to_position)
             AS f (partition, epoch, from_tx, from_position, to_tx, to_position)
        WHERE p.process = p_process
          AND p.partition = f.partition
          AND p.owner = p_worker
          AND p.epoch = f.epoch
          AND p.checkpoint_tx = f.from_tx
          AND p.checkpoint_position = f.from_position;
        GET DIAGNOSTICS written = ROW_COUNT;
        IF written <> cardinality(f_partition) THEN
            RAISE EXCEPTION USING ERRCODE = 'PMF01', MESSAGE = 'the partitions'' fence does not hold';
        END IF;
    END IF;

    -- Each instance is written only if it is still at the version it was
    -- loaded with (0: new), with the last event applied to it.
    IF cardinality(i_id) > 0 THEN
        INSERT INTO pm.instances AS i (process, instance_id, state, version, status, schema_version,
                                       last_tx, last_position, updated_at)
        SELECT p_process, w.instance_id, w.state, w.expected + 1, w.status, w.schema_version,
               w.last_tx, w.last_position, now()
        FROM unnest(i_id, i_state, i_expected, i_status, i_schema_version, i_last_tx, i_last_position)
             AS w (instance_id, state, expected, status, schema_version, last_tx, last_position)
        ON CONFLICT (process, instance_id) DO UPDATE
        SET state = excluded.state,
            version = excluded.version,
            status = excluded.status,
            schema_version = excluded.schema_version,
            last_tx = excluded.last_tx,
            last_position = excluded.last_position,
            updated_at = now()
        WHERE i.version = excluded.version - 1;
        GET DIAGNOSTICS written = ROW_COUNT;
        IF written <> cardinality(i_id) THEN
            -- The first instance this transaction did not write.
            SELECT w.instance_id INTO stale
            FROM unnest(i_id) WITH ORDINALITY AS w (instance_id, ordinality)
            LEFT JOIN pm.instances i ON i.process = p_process AND i.instance_id = w.instance_id
            WHERE i.xmin IS DISTINCT FROM pg_current_xact_id()::text::xid
            ORDER BY w.ordinality
            LIMIT 1;
            RAISE EXCEPTION USING ERRCODE = 'PMS01', MESSAGE = 'an instance changed concurrently',
                                  DETAIL = coalesce(stale, '');
        END IF;
    END IF;

    IF cardinality(c_id) > 0 THEN
        -- An existing head of these keys is locked (in key order, as
        -- acknowledgements lock them), so an acknowledgement removing it waits
        -- for this transaction and then sees these commands. A key-share
        -- lock: acknowledgements (FOR UPDATE) wait for it, claims (which only
        -- set the lease) do not.
        PERFORM 1
        FROM (SELECT DISTINCT k.ordering_key FROM unnest(c_key) AS k (ordering_key)
              ORDER BY k.ordering_key) AS k
        CROSS JOIN LATERAL (
            SELECT 1 FROM pm.outbox_heads h
            WHERE h.process = p_process AND h.ordering_key = k.ordering_key
            FOR KEY SHARE
        ) AS locked;
        -- Commands in issue order. The id is deterministic: a command
        -- recorded twice is stored once, one already delivered is not
        -- recorded again. A key with no head gets its first new command.
        WITH recorded AS (
            INSERT INTO pm.outbox (id, process, instance_id, ordering_key, command_type, payload, created_at)
            SELECT c.id, p_process, c.instance_id, c.ordering_key, c.command_type, c.payload, c.created_at
            FROM unnest(c_id, c_instance, c_key, c_type, c_payload, c_created)
                 WITH ORDINALITY AS c (id, instance_id, ordering_key, command_type, payload, created_at, ordinality)
            LEFT JOIN LATERAL (
                SELECT true AS found FROM pm.delivered d WHERE d.id = c.id LIMIT 1
            ) AS delivered ON true
            WHERE delivered.found IS NULL
            ORDER BY c.ordinality
            ON CONFLICT (id) DO NOTHING
            RETURNING id, ordering_key, created_at, seq
        )
        INSERT INTO pm.outbox_heads (process, ordering_key, command_id, available_at)
        SELECT DISTINCT ON (r.ordering_key) p_process, r.ordering_key, r.id, r.created_at
        FROM recorded r
        ORDER BY r.ordering_key, r.seq
        ON CONFLICT (process, ordering_key) DO NOTHING;
        -- Wakes dispatchers once the transaction commits.
        PERFORM pg_notify('pm_outbox', '');
    END IF;

    -- Timeouts: a due time schedules (or moves) one, none drops it.
    IF cardinality(t_instance) > 0 THEN
        INSERT INTO pm.timeouts (process, instance_id, kind, due_at)
        SELECT p_process, t.instance_id, t.kind, t.due_at
        FROM unnest(t_instance, t_kind, t_due) AS t (instance_id, kind, due_at)
        WHERE t.due_at IS NOT NULL
        ON CONFLICT (process, instance_id, kind) DO UPDATE SET due_at = excluded.due_at;
        DELETE FROM pm.timeouts t
        WHERE t.process = p_process
          AND t.ctid = ANY (ARRAY(
              SELECT found.ctid
              FROM unnest(t_instance, t_kind, t_due) AS d (instance_id, kind, due_at)
              CROSS JOIN LATERAL (
                  SELECT x.ctid FROM pm.timeouts x
                  WHERE x.process = p_process AND x.instance_id = d.instance_id AND x.kind = d.kind
                  LIMIT 1
              ) AS found
              WHERE d.due_at IS NULL));
    END IF;

    IF cardinality(r_replayed) > 0 THEN
        DELETE FROM pm.parked WHERE id = ANY (r_replayed) AND process = p_process;
    END IF;

    IF cardinality(k_instance) > 0 THEN
        INSERT INTO pm.parked (process, instance_id, error, event_tx, event_position, stream_id,
                               stream_version, event_type, payload, recorded_at, timeout_kind, due_at)
        SELECT p_process, k.instance_id, k.error, k.event_tx, k.event_position, k.stream_id,
               k.stream_version, k.event_type, k.payload, k.recorded_at, k.timeout_kind, k.due_at
        FROM unnest(k_instance, k_error, k_event_tx, k_event_position, k_stream, k_stream_version,
                    k_event_type, k_payload, k_recorded, k_timeout_kind, k_due)
             WITH ORDINALITY AS k (instance_id, error, event_tx, event_position, stream_id,
                                   stream_version, event_type, payload, recorded_at, timeout_kind,
                                   due_at, ordinality)
        ORDER BY k.ordinality;
    END IF;
END;
$$;
