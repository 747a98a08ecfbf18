// `placed` takes the instance id as a parameter of its own, besides the payload and `cx`.
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ReserveSeats {
    booking: String,
    seats: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    seats: u32,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start, sends(ReserveSeats))]
    fn placed(&mut self, event: &BookingPlaced, id: &String, cx: &mut Context<Self>) {
        self.seats = event.seats;
        cx.send(ReserveSeats {
            booking: id.clone(),
            seats: event.seats,
        });
    }
}

fn main() {}
