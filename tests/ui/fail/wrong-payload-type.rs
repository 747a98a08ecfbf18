// `placed` takes `&BookingChanged`, but `BookingEvent::Placed` holds `BookingPlaced`.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed(BookingPlaced),
    Changed(BookingChanged),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BookingPlaced {
    seats: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BookingChanged {
    seats: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Booking {
    seats: u32,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start)]
    fn placed(&mut self, event: &BookingChanged, _cx: &mut Context<Self>) {
        self.seats = event.seats;
    }

    #[on(BookingEvent::Changed)]
    fn changed(&mut self, event: &BookingChanged, _cx: &mut Context<Self>) {
        self.seats = event.seats;
    }
}

fn main() {}
