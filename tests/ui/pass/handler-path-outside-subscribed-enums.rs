// A handler for `OrderEvent::Shipped` with `OrderEvent` in `subscribe(..)`.
use pm_core::prelude::*;
use pm_core::testing::{Input, Scenario};
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

#[process_manager(name = "booking", id = String, subscribe(BookingEvent, OrderEvent))]
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

fn main() {
    let shipped = OrderEvent::Shipped(Shipment {
        booking_id: "b-1".to_owned(),
    });
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .when(Input::from(shipped).on_stream("order-5"))
        .then_completed();
}
