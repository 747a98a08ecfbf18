-- Removes a worker from a process's workers.
DELETE FROM pm.workers WHERE process = $1 AND worker_id = $2
