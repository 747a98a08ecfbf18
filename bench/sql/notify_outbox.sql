-- Wakes dispatchers once the transaction commits.
SELECT pg_notify('pm_outbox', '')
