-- Releases the parked items of one instance ($3: drop the ones that failed
-- first). Returns how many items will be applied again.
WITH skipped AS (
    DELETE FROM pm.parked
    WHERE $3 AND process = $1 AND instance_id = $2 AND error IS NOT NULL
    RETURNING id
)
UPDATE pm.parked
SET released = true
WHERE process = $1 AND instance_id = $2 AND id NOT IN (SELECT id FROM skipped)
