-- Releases every parked item of one instance; with $3, the ones that
-- failed are marked to be dropped rather than applied. The engine applies
-- (or drops) them and lets the instance go on. Returns how many items were
-- released.
UPDATE pm.parked
SET released = true, skip = $3 AND error IS NOT NULL
WHERE process = $1 AND instance_id = $2
