//! [`Histories`]: the event log folded into one [`History`] per booking, the
//! only input of the invariant checks.

use std::collections::BTreeMap;

use pm_core::backend::EventSource;
use pm_core::{Event, Position, RecordedEvent};

use crate::events::{BookingEvent, PaymentEvent, TicketsEvent};
use crate::id::BookingId;

/// How long to wait for events an open transaction holds back.
const HELD_BACK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// How many events to read from the log at a time.
const READ_BATCH: usize = 5_000;

/// Everything the log says about one booking, stream by stream, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The booking's own stream.
    pub booking: Vec<BookingEvent>,
    /// Its tickets stream.
    pub tickets: Vec<TicketsEvent>,
    /// Its payment stream.
    pub payment: Vec<PaymentEvent>,
}

impl History {
    /// How many `Placed` events the booking has.
    pub fn placements(&self) -> usize {
        self.booking
            .iter()
            .filter(|event| matches!(event, BookingEvent::Placed(_)))
            .count()
    }

    /// The final events (`Settled`, `Denied`, `Expired`) of the booking.
    pub fn endings(&self) -> Vec<&BookingEvent> {
        self.booking
            .iter()
            .filter(|event| {
                matches!(
                    event,
                    BookingEvent::Settled | BookingEvent::Denied | BookingEvent::Expired
                )
            })
            .collect()
    }

    /// The booking's only ending, if it has exactly one.
    pub fn ending(&self) -> Option<&BookingEvent> {
        match self.endings().as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }

    /// Whether the tickets stream holds an event matching `test`.
    pub fn has_tickets(&self, test: impl Fn(&TicketsEvent) -> bool) -> bool {
        self.tickets.iter().any(test)
    }

    /// Whether the payment stream holds an event matching `test`.
    pub fn has_payment(&self, test: impl Fn(&PaymentEvent) -> bool) -> bool {
        self.payment.iter().any(test)
    }
}

/// The histories of every booking in a log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histories {
    /// One history per booking, by id.
    pub bookings: BTreeMap<BookingId, History>,
    /// Events that belong to no booking or do not decode, described.
    pub unreadable: Vec<String>,
    /// How many events were read.
    pub events: u64,
}

impl Histories {
    /// Reads a whole log, in batches.
    pub async fn read<L: EventSource>(log: &L) -> pm_core::Result<Self> {
        let mut histories = Histories::default();
        let mut after = Position::START;
        let mut held_back_since = None;
        loop {
            let batch = log.read(after, &[], READ_BATCH).await?;
            if batch.events.is_empty() {
                // Events an open transaction elsewhere still hides become
                // readable once it ends; wait for them, within reason.
                let waited = held_back_since.get_or_insert_with(std::time::Instant::now);
                if batch.held_back && waited.elapsed() < HELD_BACK_PATIENCE {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
                return Ok(histories);
            }
            held_back_since = None;
            after = batch.end;
            for event in &batch.events {
                histories.push(event);
            }
        }
    }

    /// Folds in events already in memory.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a RecordedEvent>) -> Self {
        let mut histories = Histories::default();
        for event in events {
            histories.push(event);
        }
        histories
    }

    /// Adds one event to the history of its booking.
    pub fn push(&mut self, event: &RecordedEvent) {
        self.events += 1;
        let stream = event.stream_id.as_str();
        let (id, kind) = if let Some(rest) = stream.strip_prefix("tickets-") {
            (rest, Stream::Tickets)
        } else if let Some(rest) = stream.strip_prefix("payment-") {
            (rest, Stream::Payment)
        } else {
            (stream, Stream::Booking)
        };
        let Ok(id) = id.parse::<BookingId>() else {
            self.unreadable.push(format!(
                "`{}` on stream `{stream}` belongs to no booking",
                event.event_type
            ));
            return;
        };
        let history = self.bookings.entry(id).or_default();
        let decoded = match kind {
            Stream::Booking => decode(event).map(|e| history.booking.push(e)),
            Stream::Tickets => decode(event).map(|e| history.tickets.push(e)),
            Stream::Payment => decode(event).map(|e| history.payment.push(e)),
        };
        if let Err(error) = decoded {
            self.unreadable.push(error);
        }
    }
}

/// The three kinds of stream a booking has.
enum Stream {
    Booking,
    Tickets,
    Payment,
}

fn decode<E: Event>(event: &RecordedEvent) -> Result<E, String> {
    E::decode(&event.event_type, &event.payload).map_err(|error| {
        format!(
            "`{}` at version {} of `{}` is not a `{}`: {error}",
            event.event_type,
            event.stream_version,
            event.stream_id,
            E::FAMILY
        )
    })
}
