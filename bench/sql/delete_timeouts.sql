-- Drops fired, cancelled and completed instances' timeouts.
DELETE FROM pm.timeouts t
USING unnest($2::text[], $3::text[]) AS d (instance_id, kind)
WHERE t.process = $1 AND t.instance_id = d.instance_id AND t.kind = d.kind
