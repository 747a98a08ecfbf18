// `sends(..)` declares the commands a handler may send.
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ReserveTickets {
    seats: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start, sends(ReserveTickets))]
    fn placed(&mut self, event: &BookingPlaced, cx: &mut Context<Self>) {
        self.placed = true;
        cx.send(ReserveTickets { seats: event.seats });
    }
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed(BookingPlaced { seats: 2 }))
        .then_sends([ReserveTickets { seats: 2 }.into()]);
}
