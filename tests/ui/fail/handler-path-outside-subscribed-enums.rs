// A handler for `OrderEvent::Shipped`, but `OrderEvent` is not in `subscribe(..)`.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum OrderEvent {
    Shipped(Shipment),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Shipment {
    booking_id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start)]
    fn placed(&mut self, _cx: &mut Context<Self>) {
        self.placed = true;
    }

    #[on(OrderEvent::Shipped, correlate = booking_id)]
    fn shipped(&mut self, _event: &Shipment, cx: &mut Context<Self>) {
        cx.complete();
    }
}

fn main() {}
