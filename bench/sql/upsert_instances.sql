-- Writes changed instances if each is still at the version it was loaded
-- with (0: new). Returns the ids written; a missing id means the batch is
-- stale and the transaction is rolled back.
INSERT INTO pm.instances AS i (process, instance_id, state, version, status, schema_version, updated_at)
SELECT $1, w.instance_id, w.state, w.expected_version + 1, w.status, w.schema_version, now()
FROM unnest($2::text[], $3::jsonb[], $4::bigint[], $5::text[], $6::integer[])
     AS w (instance_id, state, expected_version, status, schema_version)
ON CONFLICT (process, instance_id) DO UPDATE
SET state = excluded.state,
    version = excluded.version,
    status = excluded.status,
    schema_version = excluded.schema_version,
    updated_at = now()
WHERE i.version = excluded.version - 1
RETURNING instance_id
