-- Makes the statements of the current transaction read one snapshot, so a
-- report made of several queries is consistent.
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY
