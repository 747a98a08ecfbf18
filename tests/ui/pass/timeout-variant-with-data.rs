// Timeout kinds are unit variants; the data a timeout needs stays in the process state.
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
    Reminder,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SendReminder {
    attempt: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    reminders: u32,
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
        cx.schedule(BookingTimeout::Reminder, Duration::from_secs(60));
    }

    #[timeout(BookingTimeout::Reminder, sends(SendReminder))]
    fn remind(&mut self, cx: &mut Context<Self>) {
        self.reminders += 1;
        cx.send(SendReminder {
            attempt: self.reminders,
        });
        cx.schedule(BookingTimeout::Reminder, Duration::from_secs(60));
    }
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .advance(Duration::from_secs(61))
        .then_sends([SendReminder { attempt: 1 }.into()])
        .advance(Duration::from_secs(60))
        .then_sends([SendReminder { attempt: 2 }.into()]);
}
