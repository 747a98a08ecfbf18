-- Every parked item (released, or held behind since) of up to $2 released
-- instances in the partitions $4 (of $3), oldest first: an instance is
-- replayed whole or not at all.
SELECT id, instance_id, error, event_tx, event_position, stream_id, stream_version, event_type,
       payload, recorded_at, timeout_kind, due_at
FROM pm.parked
WHERE process = $1
  AND instance_id IN (
      SELECT instance_id FROM pm.parked
      WHERE process = $1 AND released AND pm.partition_of(instance_id, $3) = ANY ($4::integer[])
      GROUP BY instance_id
      ORDER BY min(id)
      LIMIT $2
  )
ORDER BY id
