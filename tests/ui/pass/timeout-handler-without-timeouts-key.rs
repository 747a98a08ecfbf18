// `timeouts(BookingTimeout)` declares the enum of the kinds `#[timeout(..)]` handlers name.
use std::time::Duration;

use pm_core::prelude::*;
use pm_core::testing::Scenario;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
}

#[derive(Debug, Clone, Copy, PartialEq, Timeout)]
enum BookingTimeout {
    PaymentDue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ExpireBooking;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(
    name = "booking",
    id = String,
    subscribe(BookingEvent),
    timeouts(BookingTimeout)
)]
impl Booking {
    #[on(BookingEvent::Placed, start)]
    fn placed(&mut self, cx: &mut Context<Self>) {
        self.placed = true;
        cx.schedule(BookingTimeout::PaymentDue, Duration::from_secs(15 * 60));
    }

    #[timeout(BookingTimeout::PaymentDue, sends(ExpireBooking))]
    fn payment_due(&mut self, cx: &mut Context<Self>) {
        cx.send(ExpireBooking);
        cx.complete();
    }
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .advance(Duration::from_secs(16 * 60))
        .then_sends([ExpireBooking.into()])
        .then_completed();
}
