// `placed` is `async`; handlers are synchronous.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SendConfirmationEmail;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start, sends(SendConfirmationEmail))]
    async fn placed(&mut self, cx: &mut Context<Self>) {
        self.placed = true;
        cx.send(SendConfirmationEmail);
    }
}

fn main() {}
