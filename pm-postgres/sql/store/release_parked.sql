-- Releases parked items by id ($2), with or without an instance; with $3,
-- the ones that failed are marked to be dropped rather than applied.
UPDATE pm.parked
SET released = true, skip = $3 AND error IS NOT NULL
WHERE process = $1 AND id = ANY ($2::bigint[])
