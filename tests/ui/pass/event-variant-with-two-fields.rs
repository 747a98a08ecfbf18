// An event variant holds one payload struct; `#[event(family, name)]` set the stored type names.
use pm_core::prelude::*;
use pm_core::testing::{Input, Scenario};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(family = "booking")]
enum BookingEvent {
    #[event(name = "placed.v2")]
    Placed(BookingPlaced),
    Cancelled,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BookingPlaced {
    customer: String,
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

    #[on(BookingEvent::Cancelled)]
    fn cancelled(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }
}

fn main() {
    let placed = BookingEvent::Placed(BookingPlaced {
        customer: "ada".to_owned(),
        seats: 2,
    });
    assert_eq!(placed.type_name(), "booking.placed.v2");
    assert_eq!(BookingEvent::Cancelled.type_name(), "booking.Cancelled");
    Scenario::<Booking>::new("b-1".to_owned())
        .when(Input::raw(
            "booking.placed.v2",
            json!({ "customer": "ada", "seats": 3 }),
        ))
        .then_state_is(&Booking { seats: 3 })
        .when(Input::raw("booking.Cancelled", json!(null)))
        .then_completed();
}
