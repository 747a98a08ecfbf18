//! [`Services`]: the simulated Booking, Tickets and Payment services behind
//! one [`Dispatch`] gateway. Each command appends the resulting events to the
//! log at the stream version it expects, which makes redelivery harmless.

mod append;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use pm_core::{Command, RecordedEvent};
use pm_core::{CommandMeta, Dispatch, DispatchError, Event, EventLog, ExpectedVersion};

use crate::commands::{
    CancelPayment, ConfirmBooking, DenyBooking, ExpireBooking, ReleaseTickets, RequestPayment,
    ReserveTickets, SellTickets, SettleBooking,
};
use crate::events::{
    BookingConfirmed, BookingEvent, PaymentCancelled, PaymentEvent, PaymentFailed,
    PaymentSucceeded, TicketsEvent, TicketsReleased, TicketsReserved, TicketsSold,
    TicketsUnavailable,
};
use crate::id::BookingId;
use crate::plan::{Payer, Plan};
use crate::process::BookingProcessCommand;

use append::{append_once, Appended};

/// The three simulated services, appending to log `L`.
#[derive(Debug, Clone)]
pub struct Services<L> {
    log: L,
    plan: Plan,
    counters: Arc<Counters>,
}

/// Live counters of what the services did.
#[derive(Debug, Default)]
struct Counters {
    events_appended: AtomicU64,
    duplicates: AtomicU64,
    replies_lost: AtomicU64,
    cancels_too_late: AtomicU64,
    payments_too_late: AtomicU64,
}

/// A copy of the services' counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceStats {
    /// Events the services appended (duplicates not included).
    pub events_appended: u64,
    /// Redelivered commands recognised by the event already in the log.
    pub duplicates: u64,
    /// First replies deliberately lost after the append succeeded.
    pub replies_lost: u64,
    /// Cancellations that found the payment already made (the payment won).
    pub cancels_too_late: u64,
    /// Payments refused because the payment had been cancelled.
    pub payments_too_late: u64,
}

impl<L: EventLog> Services<L> {
    /// Services appending to `log` and deciding as `plan` says.
    pub fn new(log: L, plan: Plan) -> Self {
        Self {
            log,
            plan,
            counters: Arc::new(Counters::default()),
        }
    }

    /// The counters so far (shared by every clone of these services).
    pub fn stats(&self) -> ServiceStats {
        let c = &self.counters;
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ServiceStats {
            events_appended: load(&c.events_appended),
            duplicates: load(&c.duplicates),
            replies_lost: load(&c.replies_lost),
            cancels_too_late: load(&c.cancels_too_late),
            payments_too_late: load(&c.payments_too_late),
        }
    }

    /// Carries out one command: the tickets, booking or payment service
    /// appends what it decided.
    async fn handle(&self, command: &BookingProcessCommand) -> Result<Appended, DispatchError> {
        use BookingProcessCommand as C;
        match command {
            C::ReserveTickets(ReserveTickets { booking_id, .. }) => {
                let plan = self.plan.booking(*booking_id);
                let event = if plan.tickets_available {
                    TicketsEvent::Reserved(TicketsReserved {
                        booking_id: *booking_id,
                        price: plan.price,
                    })
                } else {
                    TicketsEvent::Unavailable(TicketsUnavailable {
                        booking_id: *booking_id,
                    })
                };
                let stream = booking_id.tickets_stream();
                self.append(&stream, ExpectedVersion::NoStream, &[event])
                    .await
            }
            C::ConfirmBooking(ConfirmBooking { booking_id, price }) => {
                let event = BookingEvent::Confirmed(BookingConfirmed { price: *price });
                self.append_booking(*booking_id, 1, event).await
            }
            C::DenyBooking(DenyBooking { booking_id }) => {
                self.append_booking(*booking_id, 1, BookingEvent::Denied)
                    .await
            }
            C::RequestPayment(request) => self.request_payment(request).await,
            C::CancelPayment(CancelPayment { booking_id }) => {
                self.cancel_payment(*booking_id).await
            }
            C::SettleBooking(SettleBooking { booking_id }) => {
                self.append_booking(*booking_id, 2, BookingEvent::Settled)
                    .await
            }
            C::ExpireBooking(ExpireBooking { booking_id }) => {
                self.append_booking(*booking_id, 2, BookingEvent::Expired)
                    .await
            }
            C::SellTickets(SellTickets { booking_id }) => {
                let event = TicketsEvent::Sold(TicketsSold {
                    booking_id: *booking_id,
                });
                let stream = booking_id.tickets_stream();
                self.append(&stream, ExpectedVersion::Exact(1), &[event])
                    .await
            }
            C::ReleaseTickets(ReleaseTickets { booking_id }) => {
                let event = TicketsEvent::Released(TicketsReleased {
                    booking_id: *booking_id,
                });
                let stream = booking_id.tickets_stream();
                self.append(&stream, ExpectedVersion::Exact(1), &[event])
                    .await
            }
        }
    }

    /// The customer pays (or not) as the plan says, while being asked.
    async fn request_payment(&self, request: &RequestPayment) -> Result<Appended, DispatchError> {
        let booking_id = request.booking_id;
        let succeeded = PaymentEvent::Succeeded(PaymentSucceeded {
            booking_id,
            amount: request.amount,
        });
        let events = match self.plan.booking(booking_id).payer {
            Payer::Never => return Ok(Appended::Nothing),
            Payer::AtOnce => vec![succeeded],
            Payer::AfterFailure => vec![
                PaymentEvent::Failed(PaymentFailed {
                    booking_id,
                    reason: "card declined".to_owned(),
                }),
                succeeded,
            ],
        };
        let stream = booking_id.payment_stream();
        match self
            .append(&stream, ExpectedVersion::NoStream, &events)
            .await?
        {
            // The payment was cancelled first: the customer is turned away.
            Appended::Refused(existing) if holds_cancellation(&existing) => {
                self.counters
                    .payments_too_late
                    .fetch_add(1, Ordering::Relaxed);
                Ok(Appended::Nothing)
            }
            other => Ok(other),
        }
    }

    /// The payment is cancelled, unless the customer paid first: then the
    /// payment stands and the process settles the booking.
    async fn cancel_payment(&self, booking_id: BookingId) -> Result<Appended, DispatchError> {
        let event = PaymentEvent::Cancelled(PaymentCancelled { booking_id });
        let stream = booking_id.payment_stream();
        match self
            .append(&stream, ExpectedVersion::NoStream, &[event])
            .await?
        {
            Appended::Refused(existing) if holds_payment(&existing) => {
                self.counters
                    .cancels_too_late
                    .fetch_add(1, Ordering::Relaxed);
                Ok(Appended::Nothing)
            }
            other => Ok(other),
        }
    }

    /// Appends `events` idempotently and counts what happened.
    async fn append<E: Event>(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: &[E],
    ) -> Result<Appended, DispatchError> {
        let appended = append_once(&self.log, stream, expected, events).await?;
        match &appended {
            Appended::New(count) => self
                .counters
                .events_appended
                .fetch_add(*count, Ordering::Relaxed),
            Appended::Duplicate => self.counters.duplicates.fetch_add(1, Ordering::Relaxed),
            Appended::Nothing | Appended::Refused(_) => 0,
        };
        Ok(appended)
    }

    /// Appends a booking event expected at `version + 1`.
    async fn append_booking(
        &self,
        booking_id: BookingId,
        version: i64,
        event: BookingEvent,
    ) -> Result<Appended, DispatchError> {
        let stream = booking_id.to_string();
        self.append(&stream, ExpectedVersion::Exact(version), &[event])
            .await
    }
}

impl<L: EventLog> Dispatch<BookingProcessCommand> for Services<L> {
    async fn dispatch(
        &self,
        command: BookingProcessCommand,
        meta: CommandMeta,
    ) -> Result<(), DispatchError> {
        let booking_id = booking_of(&command);
        match self.handle(&command).await? {
            Appended::New(_) => {
                if meta.attempt == 1
                    && self
                        .plan
                        .loses_first_reply(booking_id, command.command_type())
                {
                    self.counters.replies_lost.fetch_add(1, Ordering::Relaxed);
                    return Err(DispatchError::Transient(
                        "the reply was lost after the service acted".to_owned(),
                    ));
                }
                Ok(())
            }
            Appended::Duplicate | Appended::Nothing => Ok(()),
            Appended::Refused(existing) => Err(DispatchError::Permanent(format!(
                "`{}` for `{booking_id}` conflicts with {}",
                command.command_type(),
                describe(&existing)
            ))),
        }
    }
}

/// The booking a command is about.
fn booking_of(command: &BookingProcessCommand) -> BookingId {
    use BookingProcessCommand as C;
    match command {
        C::ReserveTickets(ReserveTickets { booking_id, .. })
        | C::ConfirmBooking(ConfirmBooking { booking_id, .. })
        | C::DenyBooking(DenyBooking { booking_id })
        | C::RequestPayment(RequestPayment { booking_id, .. })
        | C::CancelPayment(CancelPayment { booking_id })
        | C::SettleBooking(SettleBooking { booking_id })
        | C::SellTickets(SellTickets { booking_id })
        | C::ExpireBooking(ExpireBooking { booking_id })
        | C::ReleaseTickets(ReleaseTickets { booking_id }) => *booking_id,
    }
}

/// Whether a payment stream holds a successful payment.
fn holds_payment(events: &[RecordedEvent]) -> bool {
    payment_events(events).any(|event| matches!(event, PaymentEvent::Succeeded(_)))
}

/// Whether a payment stream holds a cancellation.
fn holds_cancellation(events: &[RecordedEvent]) -> bool {
    payment_events(events).any(|event| matches!(event, PaymentEvent::Cancelled(_)))
}

fn payment_events(events: &[RecordedEvent]) -> impl Iterator<Item = PaymentEvent> + '_ {
    events
        .iter()
        .filter_map(|event| PaymentEvent::decode(&event.event_type, &event.payload).ok())
}

/// The event types of a stream, for error messages.
fn describe(events: &[RecordedEvent]) -> String {
    let types: Vec<&str> = events
        .iter()
        .map(|event| event.event_type.as_str())
        .collect();
    format!(
        "`{}` holding [{}]",
        events.first().map_or("", |e| e.stream_id.as_str()),
        types.join(", ")
    )
}
