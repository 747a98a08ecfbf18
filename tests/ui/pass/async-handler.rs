// A synchronous handler that sends a command instead of doing I/O itself.
use pm_core::prelude::*;
use pm_core::testing::Scenario;
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
    fn placed(&mut self, cx: &mut Context<Self>) {
        self.placed = true;
        cx.send(SendConfirmationEmail);
    }
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .then_sends([SendConfirmationEmail.into()]);
}
