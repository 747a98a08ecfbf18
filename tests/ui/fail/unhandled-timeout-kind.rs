// `BookingTimeout::PaymentDue` has no `#[timeout(..)]` handler.
use std::time::Duration;

use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
    Paid,
}

#[derive(Debug, Clone, Copy, PartialEq, Timeout)]
enum BookingTimeout {
    Reminder,
    PaymentDue,
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
        cx.schedule(BookingTimeout::Reminder, Duration::from_secs(10 * 60));
        cx.schedule(BookingTimeout::PaymentDue, Duration::from_secs(15 * 60));
    }

    #[on(BookingEvent::Paid)]
    fn paid(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }

    #[timeout(BookingTimeout::Reminder, sends(SendReminder))]
    fn remind(&mut self, cx: &mut Context<Self>) {
        cx.send(SendReminder);
    }
}

fn main() {}
