-- The names of the processes that have run against this database.
SELECT name FROM pm.processes ORDER BY name
