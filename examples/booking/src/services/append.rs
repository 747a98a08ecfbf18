//! Idempotent appends: write at the stream version a command expects, and on
//! a conflict tell a redelivery (the same events already there) from a real
//! disagreement.

use pm_core::{DispatchError, Event, EventLog, ExpectedVersion, NewEvent, RecordedEvent};

/// What handling a command did to the log.
pub(super) enum Appended {
    /// This many events were appended now.
    New(u64),
    /// The same events were already there: a redelivery.
    Duplicate,
    /// Nothing was to be written (a customer who does not pay, or a decision
    /// already made the other way that the process knows how to take).
    Nothing,
    /// The stream holds something else; the command cannot succeed.
    Refused(Vec<RecordedEvent>),
}

/// Appends `events` to `stream` if it is at `expected`. A store failure is
/// transient (worth retrying); an event that does not encode is permanent.
pub(super) async fn append_once<L: EventLog, E: Event>(
    log: &L,
    stream: &str,
    expected: ExpectedVersion,
    events: &[E],
) -> Result<Appended, DispatchError> {
    let new = events
        .iter()
        .map(NewEvent::encode)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| {
            DispatchError::Permanent(format!("event for `{stream}` does not encode: {error}"))
        })?;
    let count = u64::try_from(new.len()).unwrap_or(u64::MAX);
    match log.append(stream, expected, new.clone()).await {
        Ok(_) => Ok(Appended::New(count)),
        Err(pm_core::Error::Conflict { .. }) => {
            let existing = log.read_stream(stream).await.map_err(|error| {
                DispatchError::Transient(format!("reading `{stream}` failed: {error}"))
            })?;
            if already_written(&existing, expected, &new) {
                Ok(Appended::Duplicate)
            } else {
                Ok(Appended::Refused(existing))
            }
        }
        Err(error) => Err(DispatchError::Transient(format!(
            "appending to `{stream}` failed: {error}"
        ))),
    }
}

/// Whether `new` sits in `existing` right where `expected` would have put it.
fn already_written(
    existing: &[RecordedEvent],
    expected: ExpectedVersion,
    new: &[NewEvent],
) -> bool {
    let start = match expected {
        ExpectedVersion::NoStream => 0,
        ExpectedVersion::Exact(version) => usize::try_from(version).unwrap_or(usize::MAX),
        ExpectedVersion::Any => return false,
    };
    let Some(written) = existing.get(start..start.saturating_add(new.len())) else {
        return false;
    };
    written.iter().zip(new).all(|(recorded, new)| {
        recorded.event_type == new.event_type && recorded.payload == new.payload
    })
}

#[cfg(test)]
mod tests {
    use pm_core::{ExpectedVersion, MemoryLog};

    use super::{append_once, Appended};
    use crate::events::{TicketsEvent, TicketsSold, TicketsUnavailable};
    use crate::id::BookingId;

    const ID: BookingId = BookingId(9);

    fn unavailable() -> TicketsEvent {
        TicketsEvent::Unavailable(TicketsUnavailable { booking_id: ID })
    }

    #[tokio::test]
    async fn the_same_append_twice_is_a_duplicate() {
        let log = MemoryLog::new();
        let stream = ID.tickets_stream();
        let events = [unavailable()];
        let first = append_once(&log, &stream, ExpectedVersion::NoStream, &events).await;
        assert!(matches!(first, Ok(Appended::New(1))));
        let again = append_once(&log, &stream, ExpectedVersion::NoStream, &events).await;
        assert!(matches!(again, Ok(Appended::Duplicate)));
        assert_eq!(log.len(), 1);
    }

    #[tokio::test]
    async fn a_different_event_in_the_way_is_refused() {
        let log = MemoryLog::new();
        let stream = ID.tickets_stream();
        let sold = TicketsEvent::Sold(TicketsSold { booking_id: ID });
        append_once(&log, &stream, ExpectedVersion::NoStream, &[sold])
            .await
            .unwrap();
        let events = [unavailable()];
        let refused = append_once(&log, &stream, ExpectedVersion::NoStream, &events).await;
        assert!(matches!(refused, Ok(Appended::Refused(existing)) if existing.len() == 1));
    }
}
