-- Records a process and its descriptor for operator tooling.
INSERT INTO pm.processes (name, descriptor, updated_at)
VALUES ($1, $2, now())
ON CONFLICT (name) DO UPDATE SET descriptor = excluded.descriptor, updated_at = now()
