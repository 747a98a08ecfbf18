// `placed` has no `cx: &mut Context<Self>` parameter.
use pm_core::prelude::*;
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
    fn placed(&mut self, event: &BookingPlaced) {
        self.seats = event.seats;
    }
}

fn main() {}
