-- The released parked items in the partitions $4 (of $3), oldest first:
-- every item (released, or held behind since) of up to $2 released
-- instances, replayed whole or not at all, and released items without an
-- instance, placed by their stream.
SELECT id, skip, instance_id, error, event_tx, event_position, stream_id, stream_version,
       event_type, payload, recorded_at, timeout_kind, due_at
FROM pm.parked
WHERE process = $1
  AND (instance_id IN (
          SELECT instance_id FROM pm.parked
          WHERE process = $1 AND released AND instance_id IS NOT NULL
            AND pm.partition_of(instance_id, $3) = ANY ($4::integer[])
          GROUP BY instance_id
          ORDER BY min(id)
          LIMIT $2
      )
      OR (instance_id IS NULL AND released
          AND pm.partition_of(stream_id, $3) = ANY ($4::integer[])))
ORDER BY id
