-- `pm.commit_batch` keeps one generic plan per statement for the session
-- instead of planning each statement again on every call: at one event per
-- batch, planning cost more than the writes. A session's plans may be made
-- while the tables are still empty, with no statistics, so sequential scans
-- are ruled out inside the function: every statement is shaped so that each
-- batch row is a probe by key (ON CONFLICT arbiters, LATERAL ... LIMIT 1, TID
-- lists), and with no sequential scan to choose each probe is an index probe
-- whatever the plan.
ALTER FUNCTION pm.commit_batch SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION pm.commit_batch SET enable_seqscan = off;
