-- The stored bookings among $1, each by its key.
SELECT b.id, b.state, b.version, b.done
FROM unnest($1::text[]) AS wanted (id)
JOIN LATERAL (SELECT * FROM hw.bookings b WHERE b.id = wanted.id LIMIT 1) AS b ON true
