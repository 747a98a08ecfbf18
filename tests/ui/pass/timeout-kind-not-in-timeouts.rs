// Every `#[timeout(..)]` names a kind of the enum in `timeouts(..)`.
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
    Reminder,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SendReminder;

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
        cx.schedule(BookingTimeout::Reminder, Duration::from_secs(60));
        cx.schedule(BookingTimeout::PaymentDue, Duration::from_secs(120));
    }

    #[timeout(BookingTimeout::PaymentDue)]
    fn payment_due(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }

    #[timeout(BookingTimeout::Reminder, sends(SendReminder))]
    fn remind(&mut self, cx: &mut Context<Self>) {
        cx.send(SendReminder);
    }
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .advance(Duration::from_secs(90))
        .then_sends([SendReminder.into()])
        .then_active()
        .advance(Duration::from_secs(60))
        .then_completed();
}
