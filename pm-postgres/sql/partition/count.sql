-- How many partitions a process has and which source they read.
SELECT count(*)::integer AS partitions, min(source) AS source
FROM pm.partitions
WHERE process = $1
