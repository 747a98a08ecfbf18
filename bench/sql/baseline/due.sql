-- The bookings whose payment window has passed, oldest first.
SELECT booking, due_at FROM hw.timeouts WHERE due_at <= $1 ORDER BY due_at LIMIT $2
