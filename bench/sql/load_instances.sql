-- Instances by id. A primary-key lookup per id (LATERAL ... LIMIT 1) rather
-- than `instance_id = ANY($2)`: on a table that grew from empty the planner
-- has no statistics and would scan every instance per batch.
SELECT i.instance_id, i.state, i.version, i.status, i.schema_version
FROM unnest($2::text[]) AS wanted (instance_id)
CROSS JOIN LATERAL (
    SELECT instance_id, state, version, status, schema_version
    FROM pm.instances
    WHERE process = $1 AND instance_id = wanted.instance_id
    LIMIT 1
) AS i
