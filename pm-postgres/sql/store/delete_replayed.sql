-- Removes parked items a batch applied again.
DELETE FROM pm.parked WHERE process = $1 AND id = ANY ($2::bigint[])
