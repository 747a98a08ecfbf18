-- An operator may drop parked items: they stay until the engine removes
-- them (in a fenced batch, letting their instance go on), so the instance's
-- status only ever changes in the engine.
ALTER TABLE pm.parked ADD COLUMN IF NOT EXISTS skip boolean NOT NULL DEFAULT false;
