-- Deletes dead letters of a process ($2: these ids; NULL: all).
DELETE FROM pm.dead_letters
WHERE process = $1 AND ($2::uuid[] IS NULL OR id = ANY ($2::uuid[]))
