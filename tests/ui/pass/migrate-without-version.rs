// `version = 2` next to `migrate`: state stored by version 1 is upgraded when loaded.
use pm_core::prelude::*;
use pm_core::testing::Scenario;
use pm_core::BoxError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed(BookingPlaced),
    SeatAdded,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BookingPlaced {
    seats: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    seats: u32,
}

/// Version 1 stored the seats as `count`.
fn migrate_booking(from: i32, mut state: Value) -> Result<Value, BoxError> {
    match from {
        1 => {
            let count = state
                .get_mut("count")
                .map(Value::take)
                .ok_or("version 1 state has no `count`")?;
            state["seats"] = count;
            Ok(state)
        }
        other => Err(format!("no migration from version {other}").into()),
    }
}

#[process_manager(
    name = "booking",
    id = String,
    subscribe(BookingEvent),
    version = 2,
    migrate = migrate_booking
)]
impl Booking {
    #[on(BookingEvent::Placed, start)]
    fn placed(&mut self, event: &BookingPlaced, _cx: &mut Context<Self>) {
        self.seats = event.seats;
    }

    #[on(BookingEvent::SeatAdded)]
    fn seat_added(&mut self, _cx: &mut Context<Self>) {
        self.seats += 1;
    }
}

fn main() {
    let scenario = Scenario::<Booking>::new("b-1".to_owned())
        .given_stored_state(json!({ "count": 2 }), 1)
        .when(BookingEvent::SeatAdded)
        .then_state(|booking| assert_eq!(booking.seats, 3));
    assert_eq!(scenario.stored_state().map(|(_, version)| version), Some(2));
}
