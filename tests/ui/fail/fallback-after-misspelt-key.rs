// After a macro error the rest of the file still compiles: only the misspelt `send` is reported,
// not the `cx.send(..)` it leaves undeclared, nor the uses of `Booking` as a process below.
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
struct ReserveTickets {
    seats: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Booking {
    seats: u32,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start, send(ReserveTickets))]
    fn placed(&mut self, event: &BookingPlaced, cx: &mut Context<Self>) {
        self.seats = event.seats;
        cx.send(ReserveTickets { seats: event.seats });
    }

    fn is_large(&self) -> bool {
        self.seats > 10
    }
}

fn process_name<P: ProcessManager>() -> &'static str {
    P::NAME
}

fn main() {
    assert!(!Booking::default().is_large());
    let _name = process_name::<Booking>();
}
