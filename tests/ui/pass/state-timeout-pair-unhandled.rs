// Every (state, timeout) pair is handled or ignored: `PaymentDue` expires a placed
// booking and is ignored once paid.
use std::time::Duration;

use pm_core::prelude::*;
use pm_core::testing::Scenario;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, State)]
enum Stage {
    #[default]
    New,
    Placed,
    #[state(final)]
    Paid,
    #[state(final)]
    Expired,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
    Paid,
}

#[derive(Debug, Clone, Copy, PartialEq, Timeout)]
enum BookingTimeout {
    PaymentDue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ExpireBooking;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    stage: Stage,
}

#[process_manager(
    name = "booking",
    id = String,
    subscribe(BookingEvent),
    timeouts(BookingTimeout),
    state = stage,
    ignore(
        BookingEvent::Placed except(Stage::New),
        BookingEvent::Paid except(Stage::Placed),
        BookingTimeout::PaymentDue in(Stage::New, Stage::Paid, Stage::Expired),
    )
)]
impl Booking {
    #[on(BookingEvent::Placed, start, in(Stage::New), to(Stage::Placed))]
    fn placed(&mut self, cx: &mut Context<Self>) {
        self.stage = Stage::Placed;
        cx.schedule(BookingTimeout::PaymentDue, Duration::from_secs(15 * 60));
    }

    /// Leaves the deadline pending: once paid, it changes nothing.
    #[on(BookingEvent::Paid, in(Stage::Placed), to(Stage::Paid))]
    fn paid(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Paid;
    }

    #[timeout(
        BookingTimeout::PaymentDue,
        in(Stage::Placed),
        to(Stage::Expired),
        sends(ExpireBooking)
    )]
    fn payment_due(&mut self, cx: &mut Context<Self>) {
        self.stage = Stage::Expired;
        cx.send(ExpireBooking);
    }
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .advance(Duration::from_secs(16 * 60))
        .then_sends([ExpireBooking.into()])
        .then_state(|booking| assert_eq!(booking.stage, Stage::Expired));

    Scenario::<Booking>::new("b-2".to_owned())
        .when(BookingEvent::Placed)
        .when(BookingEvent::Paid)
        .advance(Duration::from_secs(16 * 60))
        .then_sends_nothing()
        .then_state(|booking| assert_eq!(booking.stage, Stage::Paid));
}
