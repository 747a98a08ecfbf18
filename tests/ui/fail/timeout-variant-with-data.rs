// `BookingTimeout::Reminder` carries data; timeout kinds are unit variants.
use std::time::Duration;

use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
}

#[derive(Debug, Clone, Copy, PartialEq, Timeout)]
enum BookingTimeout {
    Reminder { attempt: u32 },
}

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
        cx.schedule(
            BookingTimeout::Reminder { attempt: 1 },
            Duration::from_secs(60),
        );
    }

    #[timeout(BookingTimeout::Reminder)]
    fn remind(&mut self, _cx: &mut Context<Self>) {}
}

fn main() {}
