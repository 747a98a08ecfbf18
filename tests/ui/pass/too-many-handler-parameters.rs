// `placed` reads the instance id from `cx.id()` rather than from a parameter of its own.
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
    fn placed(&mut self, event: &BookingPlaced, cx: &mut Context<Self>) {
        self.seats = event.seats;
        let booking = cx.id().clone();
        cx.send(ReserveSeats {
            booking,
            seats: event.seats,
        });
    }
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed(BookingPlaced { seats: 2 }))
        .then_sends([ReserveSeats {
            booking: "b-1".to_owned(),
            seats: 2,
        }
        .into()]);
}
