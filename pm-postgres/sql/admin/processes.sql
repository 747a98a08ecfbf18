-- The registered processes, with the source their partitions read.
SELECT p.name,
       (SELECT min(source) FROM pm.partitions t WHERE t.process = p.name) AS source
FROM pm.processes p
ORDER BY p.name
