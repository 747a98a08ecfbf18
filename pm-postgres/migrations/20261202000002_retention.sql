-- Retention: completed instances and delivered commands older than a
-- period are removed in bounded batches; this index finds the oldest
-- tombstones of a process without scanning its live instances.
CREATE INDEX IF NOT EXISTS instances_completed_by_age ON pm.instances (process, updated_at)
    WHERE status = 'completed';
