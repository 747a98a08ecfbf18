//! [`BookingProcess`]: the process manager that takes a booking from placed
//! to settled, denied or expired.
//!
//! | stage                      | on                          | to                | sends                                     |
//! |----------------------------|-----------------------------|-------------------|-------------------------------------------|
//! | New                        | `BookingEvent::Placed`      | Reserving         | `ReserveTickets`                          |
//! | Reserving                  | `TicketsEvent::Reserved`    | Confirming        | `ConfirmBooking`                          |
//! | Reserving                  | `TicketsEvent::Unavailable` | Denying           | `DenyBooking`                             |
//! | Confirming                 | `BookingEvent::Confirmed`   | AwaitingPayment   | `RequestPayment`, schedules `PaymentDue`  |
//! | Denying                    | `BookingEvent::Denied`      | Denied (final)    |                                           |
//! | AwaitingPayment            | timeout `PaymentDue`        | CancellingPayment | `CancelPayment`                           |
//! | Awaiting/CancellingPayment | `PaymentEvent::Succeeded`   | Settling          | `SettleBooking`, `SellTickets`            |
//! | CancellingPayment          | `PaymentEvent::Cancelled`   | Expiring          | `ExpireBooking`, `ReleaseTickets`         |
//! | Settling                   | `BookingEvent::Settled`     | Settled (final)   |                                           |
//! | Expiring                   | `BookingEvent::Expired`     | Expired (final)   |                                           |
//! | any                        | `PaymentEvent::Failed`      | unchanged         | nothing; counts the failed attempt        |
//!
//! Settled, Denied and Expired are `#[state(final)]`: entering one completes
//! the instance, and the build proves every stage can get to one.
//!
//! Every event handler also counts the events applied to the booking, which
//! the simulation compares with the log (G1: no event applied twice or lost).
//!
//! A payment can race the deadline: the payment service decides which came
//! first, and a payment that won settles the booking from CancellingPayment.
//! `TicketsEvent::Released` and `TicketsEvent::Sold` are ignored.
//!
//! The table is checked when the crate compiles: each handler says which
//! stages it applies in (`in(..)`) and which it may lead to (`to(..)`), and
//! every (stage, event) pair is handled or listed in `ignore(..)`, so a
//! stray or repeated event changes nothing, by construction. The README
//! shows the table as a graph drawn from the same declarations.

use std::time::Duration;

use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

use crate::commands::{
    CancelPayment, ConfirmBooking, DenyBooking, ExpireBooking, ReleaseTickets, RequestPayment,
    ReserveTickets, SellTickets, SettleBooking,
};
use crate::events::{
    BookingConfirmed, BookingEvent, BookingPlaced, PaymentCancelled, PaymentEvent, PaymentFailed,
    PaymentSucceeded, TicketsEvent, TicketsReserved, TicketsUnavailable,
};
use crate::id::BookingId;
use Stage::*;

/// Where a booking is in its process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, State)]
pub enum Stage {
    /// Not placed yet (the state before the first event).
    #[default]
    New,
    /// Waiting for the tickets service to reserve seats.
    Reserving,
    /// Seats held; waiting for the booking to be confirmed.
    Confirming,
    /// No seats; waiting for the booking to be denied.
    Denying,
    /// Confirmed; waiting for the customer to pay before the deadline.
    AwaitingPayment,
    /// The deadline passed; waiting to hear whether the payment was
    /// cancelled or had already gone through.
    CancellingPayment,
    /// Paid; waiting for the booking to be settled.
    Settling,
    /// Payment cancelled; waiting for the booking to expire.
    Expiring,
    /// Finished: paid and settled.
    #[state(final)]
    Settled,
    /// Finished: denied.
    #[state(final)]
    Denied,
    /// Finished: expired unpaid.
    #[state(final)]
    Expired,
}

/// The timeouts a booking process schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Timeout)]
pub enum BookingTimeout {
    /// The customer's time to pay is up.
    PaymentDue,
}

/// The state of one booking's process.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BookingProcess {
    /// Where the booking is.
    pub stage: Stage,
    /// Seats asked for.
    pub seats: u32,
    /// How long the customer has to pay once confirmed, from the placed event.
    pub payment_window_ms: u64,
    /// The confirmed price in cents, once known.
    pub price: Option<u64>,
    /// Failed payment attempts seen.
    pub failed_payments: u32,
    /// Events applied to this booking (every event handler adds one): the
    /// simulation checks it against the log, so an event applied twice or
    /// lost shows (G1).
    pub events_applied: u32,
}

#[process_manager(
    name = "booking",
    id = BookingId,
    subscribe(BookingEvent, TicketsEvent, PaymentEvent),
    timeouts(BookingTimeout),
    state = stage,
    ignore(
        BookingEvent::Placed except(New),
        BookingEvent::Confirmed except(Confirming),
        BookingEvent::Denied except(Denying),
        BookingEvent::Settled except(Settling),
        BookingEvent::Expired except(Expiring),
        TicketsEvent::Reserved except(Reserving),
        TicketsEvent::Unavailable except(Reserving),
        TicketsEvent::Released,
        TicketsEvent::Sold,
        PaymentEvent::Succeeded except(AwaitingPayment, CancellingPayment),
        PaymentEvent::Failed except(AwaitingPayment, CancellingPayment, Settling, Expiring),
        PaymentEvent::Cancelled except(CancellingPayment),
        BookingTimeout::PaymentDue except(AwaitingPayment),
    ),
)]
impl BookingProcess {
    #[on(
        BookingEvent::Placed,
        start,
        in(New),
        to(Reserving),
        sends(ReserveTickets)
    )]
    fn placed(&mut self, placed: &BookingPlaced, cx: &mut Context<Self>) {
        self.events_applied += 1;
        self.stage = Reserving;
        self.seats = placed.seats;
        self.payment_window_ms = placed.payment_window_ms;
        cx.send(ReserveTickets {
            booking_id: *cx.id(),
            seats: placed.seats,
        });
    }

    #[on(TicketsEvent::Reserved, correlate = booking_id, in(Reserving), to(Confirming), sends(ConfirmBooking))]
    fn tickets_reserved(&mut self, reserved: &TicketsReserved, cx: &mut Context<Self>) {
        self.events_applied += 1;
        self.stage = Confirming;
        cx.send(ConfirmBooking {
            booking_id: *cx.id(),
            price: reserved.price,
        });
    }

    #[on(TicketsEvent::Unavailable, correlate = booking_id, in(Reserving), to(Denying), sends(DenyBooking))]
    fn tickets_unavailable(&mut self, _: &TicketsUnavailable, cx: &mut Context<Self>) {
        self.events_applied += 1;
        self.stage = Denying;
        cx.send(DenyBooking {
            booking_id: *cx.id(),
        });
    }

    #[on(
        BookingEvent::Confirmed,
        in(Confirming),
        to(AwaitingPayment),
        sends(RequestPayment)
    )]
    fn confirmed(&mut self, confirmed: &BookingConfirmed, cx: &mut Context<Self>) {
        self.events_applied += 1;
        self.stage = AwaitingPayment;
        self.price = Some(confirmed.price);
        cx.send(RequestPayment {
            booking_id: *cx.id(),
            amount: confirmed.price,
        });
        cx.schedule(
            BookingTimeout::PaymentDue,
            Duration::from_millis(self.payment_window_ms),
        );
    }

    #[on(BookingEvent::Denied, in(Denying), to(Denied))]
    fn denied(&mut self, _cx: &mut Context<Self>) {
        self.events_applied += 1;
        self.stage = Denied;
    }

    /// A payment settles the booking even after the deadline fired, as long
    /// as it was not cancelled: the payment service decided it came first.
    #[on(
        PaymentEvent::Succeeded,
        correlate = booking_id,
        in(AwaitingPayment, CancellingPayment),
        to(Settling),
        sends(SettleBooking, SellTickets)
    )]
    fn payment_succeeded(&mut self, _: &PaymentSucceeded, cx: &mut Context<Self>) {
        self.events_applied += 1;
        self.stage = Settling;
        cx.cancel(BookingTimeout::PaymentDue);
        let booking_id = *cx.id();
        cx.send(SettleBooking { booking_id });
        cx.send(SellTickets { booking_id });
    }

    /// Counted in every stage a failed attempt can reach, so the count does
    /// not depend on whether it arrives before or after a later success.
    #[on(
        PaymentEvent::Failed,
        correlate = booking_id,
        in(AwaitingPayment, CancellingPayment, Settling, Expiring)
    )]
    fn payment_failed(&mut self, _: &PaymentFailed, _cx: &mut Context<Self>) {
        self.events_applied += 1;
        self.failed_payments += 1;
    }

    #[timeout(
        BookingTimeout::PaymentDue,
        in(AwaitingPayment),
        to(CancellingPayment),
        sends(CancelPayment)
    )]
    fn payment_due(&mut self, cx: &mut Context<Self>) {
        self.stage = CancellingPayment;
        cx.send(CancelPayment {
            booking_id: *cx.id(),
        });
    }

    #[on(
        PaymentEvent::Cancelled,
        correlate = booking_id,
        in(CancellingPayment),
        to(Expiring),
        sends(ExpireBooking, ReleaseTickets)
    )]
    fn payment_cancelled(&mut self, _: &PaymentCancelled, cx: &mut Context<Self>) {
        self.events_applied += 1;
        self.stage = Expiring;
        let booking_id = *cx.id();
        cx.send(ExpireBooking { booking_id });
        cx.send(ReleaseTickets { booking_id });
    }

    #[on(BookingEvent::Settled, in(Settling), to(Settled))]
    fn settled(&mut self, _cx: &mut Context<Self>) {
        self.events_applied += 1;
        self.stage = Settled;
    }

    #[on(BookingEvent::Expired, in(Expiring), to(Expired))]
    fn expired(&mut self, _cx: &mut Context<Self>) {
        self.events_applied += 1;
        self.stage = Expired;
    }
}
