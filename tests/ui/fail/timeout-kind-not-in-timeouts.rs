// `remind` handles `ReminderTimeout::Nudge`, but `timeouts(..)` names `BookingTimeout`.
use std::time::Duration;

use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
}

#[derive(Debug, Clone, Copy, PartialEq, Timeout)]
enum BookingTimeout {
    PaymentDue,
}

#[derive(Debug, Clone, Copy, PartialEq, Timeout)]
enum ReminderTimeout {
    Nudge,
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
        cx.schedule(BookingTimeout::PaymentDue, Duration::from_secs(120));
    }

    #[timeout(BookingTimeout::PaymentDue)]
    fn payment_due(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }

    #[timeout(ReminderTimeout::Nudge, sends(SendReminder))]
    fn remind(&mut self, cx: &mut Context<Self>) {
        cx.send(SendReminder);
    }
}

fn main() {}
