-- Writes changed instances if each is still at the version it was loaded
-- with (0: new), with the last event applied to each. Returns the ids
-- written; a missing id means the batch is stale and the transaction is
-- rolled back.
INSERT INTO pm.instances AS i (process, instance_id, state, version, status, schema_version,
                               last_tx, last_position, updated_at)
SELECT $1, w.instance_id, w.state, w.expected_version + 1, w.status, w.schema_version,
       w.last_tx, w.last_position, now()
FROM unnest($2::text[], $3::jsonb[], $4::bigint[], $5::text[], $6::integer[], $7::bigint[], $8::bigint[])
     AS w (instance_id, state, expected_version, status, schema_version, last_tx, last_position)
ON CONFLICT (process, instance_id) DO UPDATE
SET state = excluded.state,
    version = excluded.version,
    status = excluded.status,
    schema_version = excluded.schema_version,
    last_tx = excluded.last_tx,
    last_position = excluded.last_position,
    updated_at = now()
WHERE i.version = excluded.version - 1
RETURNING instance_id
