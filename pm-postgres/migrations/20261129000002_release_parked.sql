-- An operator releases a parked instance; the engine applies its parked
-- items again, in order, and removes them.
ALTER TABLE pm.parked ADD COLUMN IF NOT EXISTS released boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS parked_released ON pm.parked (process, id) WHERE released;
