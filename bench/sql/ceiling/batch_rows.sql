-- What one batch of the log makes the engine write: per event (in log
-- order, after ($1, $2), at most $3) its booking, its type, and where it
-- is, for the ceiling to write as many rows.
SELECT transaction_id::text::bigint AS tx, position, event_type,
       CASE WHEN event_type LIKE 'BookingEvent.%' THEN stream_id
            ELSE payload ->> 'booking_id' END AS booking
FROM pm.events
WHERE (transaction_id, position) > ($1::text::xid8, $2)
ORDER BY transaction_id, position
LIMIT $3
