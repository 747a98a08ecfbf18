// `migrate = migrate_booking` without `version = 2`, the version it upgrades stored state to.
use pm_core::prelude::*;
use pm_core::BoxError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

fn main() {}
