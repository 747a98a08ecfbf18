// A handler that changes only its state still takes `cx: &mut Context<Self>` last.
use pm_core::prelude::*;
use pm_core::testing::Scenario;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed(BookingPlaced),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BookingPlaced {
    seats: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Booking {
    seats: u32,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start)]
    fn placed(&mut self, event: &BookingPlaced, _cx: &mut Context<Self>) {
        self.seats = event.seats;
    }
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed(BookingPlaced { seats: 4 }))
        .then_sends_nothing()
        .then_state_is(&Booking { seats: 4 });
}
